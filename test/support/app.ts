// One fixture that boots the whole API on a fresh temp database in milliseconds. It is
// built by the daemon's own wiring (src/wiring/), with test doubles where the daemon meets
// the outside world: no WhatsApp stage, backups made inline, receivers' timeouts short.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApp } from "../../src/api/app.ts";
import type { AppDeps } from "../../src/api/deps.ts";
import { createBackup } from "../../src/backup/create.ts";
import type { BackupService } from "../../src/backup/service.ts";
import { loadConfig, type Config } from "../../src/config.ts";
import { startDataStage } from "../../src/dataStage.ts";
import { ApiError } from "../../src/errors.ts";
import type { IngestDeps } from "../../src/ingest/ingest.ts";
import { silentLogger } from "../../src/log.ts";
import { MediaLinks } from "../../src/mediaLinks.ts";
import { generateKey, insertKey } from "../../src/store/apiKeys.ts";
import { openStore } from "../../src/store/db.ts";
import type { StorageHealth } from "../../src/store/storageHealth.ts";
import { buildApi } from "../../src/wiring/api.ts";
import { buildDelivery, type DeliveryInputs } from "../../src/wiring/delivery.ts";

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

/** Without a WhatsApp stage there is nothing to download and no phone to ask for older messages. */
const noPhone: DeliveryInputs["whatsapp"] = {
  wakeMedia: () => {},
  requestOlder: async () => {
    throw new Error("no WhatsApp stage in this test app");
  },
};

/** `deliver: true` starts the delivery worker and backfill runner on the app's store (short timeouts). */
export function startTestApp(env: Record<string, string> = {}, opts: { deliver?: boolean; accounts?: AppDeps["accounts"] } = {}): TestApp {
  const dir = tempDir();
  const config = loadConfig({ WAHOOK_DATA_DIR: dir, WAHOOK_ALLOW_TARGETS: "loopback", WAHOOK_BACKUP_DIR: join(dir, "backups"), ...env });
  const store = openStore(join(dir, "wahook.db"));
  const adminKey = generateKey();
  const readKey = generateKey();
  insertKey(store, adminKey, "test admin", "admin", "api");
  insertKey(store, readKey, "test reader", "read", "api");
  const log = silentLogger;
  const data = startDataStage(config, store, log, createBackup);
  const links = new MediaLinks(store, config);
  const delivery = buildDelivery({ config, log, store, links, whatsapp: noPhone, onDbError: data.storage.report, timeouts: { totalMs: 1_000, idleMs: 1_000 } });
  const deps = buildApi({ config, log, version: "test", store, delivery, data, accounts: opts.accounts ?? noWhatsApp, media: links });
  const app = createApp(deps);
  if (opts.deliver) {
    delivery.worker.start();
    delivery.backfills.start();
  }
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
    ingest: delivery.ingest,
    storage: data.storage,
    backups: data.backups,
    async close() {
      data.stop();
      await data.backups.idle();
      delivery.backfills.stop();
      await delivery.worker.stop(2_000);
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
