// A delivery engine on a temp database, with short timeouts, wired like main.ts does.
import { afterAll, afterEach, beforeAll } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { DeliveryMetrics } from "../../src/delivery/metrics.ts";
import { DeliveryWorker, type WorkerDeps } from "../../src/delivery/worker.ts";
import type { Message } from "../../src/domain.ts";
import { ingestMessage, type IngestDeps } from "../../src/ingest/ingest.ts";
import { silentLogger } from "../../src/log.ts";
import { openStore, type Store } from "../../src/store/db.ts";
import { insertWebhook, type WebhookInsert, type WebhookRow } from "../../src/store/webhooks.ts";
import { tempDir } from "./app.ts";
import { startSink, type Sink } from "./sink.ts";

export { textMessage } from "./messages.ts";

export interface Engine {
  store: Store;
  worker: DeliveryWorker;
  metrics: DeliveryMetrics;
  ingest: IngestDeps;
  webhook(values: Partial<WebhookInsert> & { url: string }): WebhookRow;
  send(message: Message): void;
  outbox(): { id: string; status: string; chat_key: string; seq: number; attempts: number }[];
  close(): Promise<void>;
}

export function startEngine(overrides: Partial<WorkerDeps> = {}): Engine {
  const dir = tempDir("wahook-delivery-");
  const store = openStore(join(dir, "wahook.db"));
  const metrics = new DeliveryMetrics();
  const worker = new DeliveryWorker({
    store,
    log: silentLogger,
    allow: { loopback: true, private: false, cidrs: [] },
    userAgent: "wahook-test",
    accountInfo: () => ({ phone: "15550000001", email: "owner@example.com" }),
    fileUrl: () => null,
    metrics,
    timeouts: { totalMs: 1_000, idleMs: 1_000 },
    ...overrides,
  });
  const ingest: IngestDeps = { store, wake: worker.wake, onIngested: (m) => metrics.message(m.accountId) };
  worker.start();
  return {
    store,
    worker,
    metrics,
    ingest,
    webhook: (values) => insertWebhook(store, { events: ["message.received", "message.sent"], ...values }),
    send: (message) => void ingestMessage(ingest, message),
    outbox: () => store.sqlite.query("SELECT id, status, chat_key, seq, attempts FROM outbox ORDER BY chat_key, seq").all() as never,
    async close() {
      await worker.stop(2_000);
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The usual test file set-up: one sink for the file, a fresh engine per test (closed
 * after it), the sink's record cleared between tests.
 */
export function deliveryHarness(): { readonly sink: Sink; engine(overrides?: Partial<WorkerDeps>): Engine } {
  let sink: Sink | undefined;
  let current: Engine | undefined;
  beforeAll(async () => {
    sink = await startSink();
  });
  afterAll(() => sink?.close());
  afterEach(async () => {
    await current?.close();
    current = undefined;
    sink?.reset();
  });
  return {
    get sink() {
      if (!sink) throw new Error("the sink starts in beforeAll");
      return sink;
    },
    engine(overrides = {}) {
      current = startEngine(overrides);
      return current;
    },
  };
}
