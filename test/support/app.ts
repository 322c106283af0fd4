// One fixture that boots the whole API on a fresh temp database in milliseconds.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApp, type AppDeps } from "../../src/api/app.ts";
import { loadConfig, type Config } from "../../src/config.ts";
import { checkTarget } from "../../src/delivery/targetCheck.ts";
import { ApiError } from "../../src/errors.ts";
import { DeliveryMetrics, renderPrometheus } from "../../src/delivery/metrics.ts";
import { buildTestMessage } from "../../src/delivery/payload.ts";
import { enqueueTestEvent, type IngestDeps } from "../../src/ingest/ingest.ts";
import { BackfillRunner, endBackfill } from "../../src/backfill/runner.ts";
import { DeliveryWorker } from "../../src/delivery/worker.ts";
import { silentLogger } from "../../src/log.ts";
import { allQueueDepths } from "../../src/store/deliveries.ts";
import { generateKey, insertKey } from "../../src/store/apiKeys.ts";
import { openStore } from "../../src/store/db.ts";
import { createBackup } from "../../src/backup/create.ts";
import { BackupService } from "../../src/backup/service.ts";
import { StorageHealth } from "../../src/store/storageHealth.ts";
import { StorageStatsReader } from "../../src/storageStats.ts";

export interface TestApp {
  app: ReturnType<typeof createApp>;
  deps: AppDeps;
  adminKey: string;
  readKey: string;
  config: Config;
  /** JSON request through app.handle; `key: null` sends no key. */
  call(method: string, path: string, opts?: { body?: unknown; rawBody?: string; key?: string | null; headers?: Record<string, string> }): Promise<{ status: number; body: any; headers: Headers }>;
  ingest: IngestDeps;
  /** The app's disk state (report a full disk to see the API refuse writes). */
  storage: StorageHealth;
  /** Backups made inline (no thread) into <data dir>/backups. */
  backups: BackupService;
  close(): Promise<void>;
}

/** Status, body (JSON when it parses, else text) and headers of a response. */
export async function readResponse(res: Response): Promise<{ status: number; body: any; headers: Headers }> {
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {}
  return { status: res.status, body: parsed, headers: res.headers };
}

export function tempDir(prefix = "wahook-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** API tests that do not talk to WhatsApp: account actions answer as if no socket ever opened. */
const noWhatsApp: AppDeps["accounts"] = {
  create: () => {
    throw new Error("this test app has no WhatsApp stage; pass opts.accounts");
  },
  qr: async () => {
    throw new ApiError("qr_unavailable");
  },
  pairingCode: async () => {
    throw new ApiError("qr_unavailable");
  },
  logout: async () => {
    throw new Error("no WhatsApp stage");
  },
  restart: () => {
    throw new Error("no WhatsApp stage");
  },
  remove: async () => {},
  problem: () => null,
  watch: () => () => {},
  currentQr: async () => null,
};

/** `deliver: true` runs a real delivery worker and backfill runner on the app's store (short timeouts). */
export function startTestApp(env: Record<string, string> = {}, opts: { deliver?: boolean; accounts?: AppDeps["accounts"] } = {}): TestApp {
  const dir = tempDir();
  const config = loadConfig({ WAHOOK_DATA_DIR: dir, WAHOOK_ALLOW_TARGETS: "loopback", WAHOOK_BACKUP_DIR: join(dir, "backups"), ...env });
  const store = openStore(join(dir, "wahook.db"));
  const adminKey = generateKey();
  const readKey = generateKey();
  insertKey(store.db, adminKey, "test admin", "admin", "api");
  insertKey(store.db, readKey, "test reader", "read", "api");
  const metrics = new DeliveryMetrics();
  const worker = opts.deliver
    ? new DeliveryWorker({
        store,
        log: silentLogger,
        allow: config.allowTargets,
        userAgent: "wahook-test",
        accountInfo: () => ({ phone: null, email: null }),
        fileUrl: () => null,
        metrics,
        timeouts: { totalMs: 1_000, idleMs: 1_000 },
      })
    : null;
  const wake = worker ? worker.wake : () => {};
  const runner = worker
    ? new BackfillRunner({
        store,
        log: silentLogger,
        wakeDelivery: worker.wake,
        wakeMedia: () => {},
        mediaHoldMs: 1_000,
        requestOlder: async () => {
          throw new Error("no WhatsApp stage in this test app");
        },
      })
    : null;
  const storage = new StorageHealth(dir, store.sqlite, silentLogger);
  const stats = new StorageStatsReader(dir, store.sqlite, () => storage.problem);
  const ingest: IngestDeps = { store, wake, onIngested: (m) => metrics.message(m.accountId) };
  const deps: AppDeps = {
    store,
    config,
    log: silentLogger,
    version: "test",
    startedAt: Date.now(),
    checkTarget: (url) => checkTarget(url, config.allowTargets),
    delivery: {
      sendTest: (webhookId, ordering) => enqueueTestEvent(ingest, webhookId, ordering, buildTestMessage(null, Date.now())),
      wake,
      metrics: () => renderPrometheus(metrics, allQueueDepths(store.sqlite), Date.now()),
    },
    accounts: opts.accounts ?? noWhatsApp,
    backfills: {
      wake: () => runner?.wake(),
      cancel: (id) => endBackfill(store, id, ["planning", "running", "paused"], "cancelled", null, Date.now()),
    },
    media: { dir: join(dir, "media"), key: Buffer.alloc(32, 7) },
    backups: new BackupService({ dataDir: dir, dir: config.backup.dir, keep: config.backup.keep, s3: null, log: silentLogger, version: "test", make: createBackup }),
    storage: { problem: () => storage.problem, stats: () => stats.read() },
  };
  const app = createApp(deps);
  worker?.start();
  runner?.start();
  return {
    app,
    deps,
    adminKey,
    readKey,
    config,
    async call(method, path, opts = {}) {
      const headers: Record<string, string> = { ...opts.headers };
      const key = opts.key === undefined ? adminKey : opts.key;
      if (key) headers.authorization = `Bearer ${key}`;
      let body: string | undefined = opts.rawBody;
      if (opts.body !== undefined) {
        body = JSON.stringify(opts.body);
        headers["content-type"] ??= "application/json";
      }
      return readResponse(await app.handle(new Request(`http://localhost${path}`, { method, headers, body })));
    },
    ingest,
    storage,
    backups: deps.backups as BackupService,
    async close() {
      storage.stop();
      await (deps.backups as BackupService).idle();
      runner?.stop();
      await worker?.stop(2_000);
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
