// The only place that wires stages together: config → data folder → store → delivery → jobs → api.
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { createApp, type AppDeps } from "./api/app.ts";
import { edgeHandlers } from "./api/edge.ts";
import { describeStartupFailure, parseArgs, usage } from "./cli.ts";
import { prepareDataDir } from "./dataDir.ts";
import { ConfigError, loadConfig, publicUrlFor, type Config } from "./config.ts";
import { checkTarget } from "./delivery/targetCheck.ts";
import { createLogger, type Logger } from "./log.ts";
import { bootstrapKeys } from "./store/apiKeys.ts";
import { WalCheckpointer } from "./store/checkpointer.ts";
import { GroupCommit } from "./store/groupCommit.ts";
import { openStore, type Store } from "./store/db.ts";
import { allQueueDepths } from "./store/deliveries.ts";
import { DeliveryMetrics, renderPrometheus } from "./delivery/metrics.ts";
import { buildTestMessage } from "./delivery/payload.ts";
import { DeliveryWorker, disableLongFailing } from "./delivery/worker.ts";
import { enqueueTestEvent, ingestMessage, type IngestDeps } from "./ingest/ingest.ts";
import { signMediaToken } from "./mediaToken.ts";
import { accountContact, markResuming } from "./store/accounts.ts";
import { raiseOpenFilesLimit } from "./openFiles.ts";
import { kvGetOrSet, mediaOfMessage } from "./store/media.ts";
import { MEDIA_HOLD_MS } from "./wa/limits.ts";
import type { AccountManager } from "./wa/accounts.ts";
import type { WaStage } from "./wa/stage.ts";
import { startJobs } from "./jobs/index.ts";
import { startDataStage } from "./dataStage.ts";
import { renderStorageMetrics } from "./storageStats.ts";
import { BackfillRunner, DEFAULT_RATE_PER_S, endBackfill, HISTORY_SETTLE_MS, OLDER_PER_REQUEST } from "./backfill/runner.ts";
import { ingestHistory, type HistoryDeps } from "./ingest/history.ts";
import { queueAccountStatus, queueMessageStatus } from "./ingest/statusEvents.ts";
import { recordOlderAnswer } from "./store/backfills.ts";
import { VERSION } from "./version.ts";

/** Where Baileys connects unless WAHOOK_WA_URL says otherwise (its DEFAULT_CONNECTION_CONFIG). */
const WHATSAPP_WEB_SOCKET = "wss://web.whatsapp.com/ws/chat";

/** The API's head start over loading Baileys at start-up (see startDaemon). */
const WA_LOAD_DELAY_MS = 25;

/** How long in-flight requests may take to finish after SIGTERM before they are cut. */
const SHUTDOWN_GRACE_MS = 10_000;

function announceGeneratedKey(key: string): void {
  // Deliberately not a log line: this is the only time the key is shown, and logs are
  // often shipped elsewhere. stderr, once, at first start.
  process.stderr.write(
    [
      "",
      "  An admin API key was generated for this new installation:",
      "",
      `    ${key}`,
      "",
      "  Keep it now: it is shown only this once and only its hash is stored.",
      "  Use it as 'Authorization: Bearer <key>' (Swagger UI: Authorize).",
      "",
    ].join("\n") + "\n",
  );
}

export interface Daemon {
  port: number;
  store: Store;
  worker: DeliveryWorker;
  /** End-of-turn commit of what WhatsApp sends (its frames wait for it). */
  commit: GroupCommit;
  ingest: IngestDeps;
  history: HistoryDeps;
  backfills: BackfillRunner;
  accounts: AccountManager;
  /** Stops accepting requests, lets in-flight work finish (bounded), closes the database. */
  stop(): Promise<void>;
}

/**
 * Wires config → data folder → store → delivery → jobs → api, starts listening, then loads
 * the WhatsApp stage and resumes the paired accounts. Resolves once all of it runs.
 */
export interface DaemonOptions {
  /** No terminal QR art in the log (tests). */
  quietQr?: boolean;
  /** Media download retry delays (tests shorten the 2 s / 10 s / 30 s default). */
  mediaRetryMs?: number[];
}

export async function startDaemon(config: Config, log: Logger, opts: DaemonOptions = {}): Promise<Daemon> {
  // Before anything opens a file: every WhatsApp account holds one (wa/fdBudget.ts).
  const openFiles = raiseOpenFilesLimit();
  prepareDataDir(config.dataDir, log);
  const dbFile = join(config.dataDir, "wahook.db");
  const store = openStore(dbFile, undefined, { synchronous: config.dbSync, walCheckpoint: config.walCheckpoint });
  // Storage health, sizes, backups and retention (dataStage.ts).
  const data = startDataStage(config, store, log);
  // Before the API answers: nothing is connected yet, whatever the last run left.
  markResuming(store.sqlite);
  const checkpointer = new WalCheckpointer(dbFile, store.sqlite, config.dbSync, log);
  const commit = new GroupCommit(store.sqlite, log, data.storage.report);
  const keys = bootstrapKeys(store.db, config.apiKey);
  if (keys.generated) announceGeneratedKey(keys.generated);
  if (keys.reactivatedEnvKey) log.warn("WAHOOK_API_KEY had been revoked through the API; it works again because it is set in the environment. Change or remove WAHOOK_API_KEY to retire it.");

  const mediaDir = join(config.dataDir, "media");
  // The key media links are signed with: made once, kept in the database.
  const mediaKey = Buffer.from(kvGetOrSet(store.sqlite, "media_link_key", randomBytes(32).toString("base64")), "base64");
  /** Known once the server listens (WAHOOK_PORT=0 picks the port then); no link is made before. */
  let publicUrl = config.publicUrl ?? "";
  const fileUrl = (messageRowid: number | null, queuedAt: number): string | null => {
    const row = messageRowid === null ? null : mediaOfMessage(store.sqlite, messageRowid);
    if (row?.status !== "ready") return null;
    // Valid TTL days from when the delivery was queued: a retry sends the very same link (and
    // body, and signature). Only a replay past that gets a fresh one rather than a dead link.
    const now = Date.now();
    const expires = queuedAt + config.mediaTtlMs > now ? queuedAt + config.mediaTtlMs : now + config.mediaTtlMs;
    return `${publicUrl}/v1/media/${signMediaToken(mediaKey, row.id, expires)}`;
  };

  const metrics = new DeliveryMetrics();
  const worker = new DeliveryWorker({
    store,
    log,
    allow: config.allowTargets,
    userAgent: `wahook/${VERSION}`,
    accountInfo: (id) => accountContact(store.sqlite, id),
    fileUrl: (_message, rowid, queuedAt) => fileUrl(rowid, queuedAt),
    metrics,
    onDbError: data.storage.report,
  });
  // Filled in once the WhatsApp stage has loaded (below); until then there is nothing to download.
  let wa: WaStage | null = null;
  const wakeMedia = () => wa?.downloader.wake();
  const ingest: IngestDeps = {
    store,
    decryptGraceMs: config.decryptGraceMs,
    wake: worker.wake,
    onIngested: (m) => metrics.message(m.accountId),
    whenCommitted: (fn) => commit.whenCommitted(fn),
    media: { maxBytes: config.mediaMaxBytes, holdMs: MEDIA_HOLD_MS, onQueued: wakeMedia },
  };
  const history: HistoryDeps = { store, mediaMaxBytes: config.mediaMaxBytes, settleMs: HISTORY_SETTLE_MS, autoRatePerS: DEFAULT_RATE_PER_S };
  const backfills = new BackfillRunner({
    store,
    log,
    wakeDelivery: worker.wake,
    wakeMedia,
    mediaHoldMs: MEDIA_HOLD_MS,
    requestOlder: (accountId, oldest, count) => (wa ? wa.accounts.requestOlder(accountId, oldest, count) : Promise.reject(new Error("starting"))),
  });

  const startTimedJobs = () =>
    startJobs({
      store,
      log,
      runRetention: data.runRetention,
      wakeDelivery: () => {
        worker.wake();
        wakeMedia();
      },
      wakeBackfills: backfills.wake,
      disableLongFailing: (now) => disableLongFailing(store.sqlite, now),
    });
  let jobs: { stop(): void } | null = null;
  /** Set by stop(): whatever has not started by then does not start. */
  let stopping = false;

  // Baileys is loaded once the server listens and has had a moment to answer: evaluating
  // it blocks the event loop for about 100 ms (as long as everything before it), and the
  // API needs none of it. Account routes called meanwhile wait for it (below).
  let listening!: () => void;
  const listened = new Promise<void>((resolve) => (listening = resolve));
  // The timed jobs too: setting up their schedules took 18-35 ms of start-up, and the
  // first of them is due only a second later.
  void listened.then(() => {
    if (!stopping) jobs = startTimedJobs();
  });
  const waReady = listened.then(() => import("./wa/stage.ts")).then((m) => {
    wa = m.startWaStage({
      store,
      log,
      waUrl: config.waUrl,
      waRootKey: config.waRootKey,
      waQrTimeoutMs: config.waQrTimeoutMs,
      waMediaUrl: config.waMediaUrl,
      mediaDir,
      mediaMaxBytes: config.mediaMaxBytes,
      // QR art only for an admin watching a terminal who asked for it, never into a journal.
      quietQr: opts.quietQr || !(config.qrTerminal && process.stdout.isTTY),
      mediaRetryMs: opts.mediaRetryMs,
      wakeDelivery: worker.wake,
      commit,
      openFiles,
      handlers: {
        deliver: (message, events) => ingestMessage(ingest, message, events),
        storeHistory: (id, messages) => {
          const stored = ingestHistory(history, id, messages);
          for (const m of messages.slice(0, stored.stored)) metrics.message(m.accountId);
          if (stored.autoBackfillId) backfills.wake();
        },
        historyAnswered: (requestId, count) => {
          if (recordOlderAnswer(store.sqlite, requestId, count, OLDER_PER_REQUEST)) backfills.wake();
        },
        messageStatus: (accountId, changes) => {
          let queued = 0;
          for (const change of changes) queued += queueMessageStatus(store.sqlite, accountId, change);
          if (queued) worker.wake();
        },
      },
      onAccountStatus: (accountId, change) => {
        if (queueAccountStatus(store.sqlite, accountId, change)) worker.wake();
      },
    });
    return wa.accounts;
  });
  // Account routes called in the first moments wait for the stage rather than fail.
  const accountsApi: AppDeps["accounts"] = {
    create: async (name, email) => (await waReady).create(name, email),
    qr: async (id) => (await waReady).qr(id),
    pairingCode: async (id, phone) => (await waReady).pairingCode(id, phone),
    logout: async (id) => (await waReady).logout(id),
    restart: async (id) => (await waReady).restart(id),
    remove: (id, purge) => data.removeAccount(id, purge, async () => (await waReady).remove(id, purge)),
    problem: (id) => wa?.accounts.problem(id) ?? null,
    // Nothing changes before the stage has loaded; a stream opened that early hears from it once it has.
    watch: (id, fn) => {
      let unsubscribe: () => void = () => {};
      let done = false;
      void waReady.then((a) => {
        if (!done) unsubscribe = a.watch(id, fn);
      });
      return () => {
        done = true;
        unsubscribe();
      };
    },
    currentQr: async (id) => (await waReady).currentQr(id),
  };

  const app = createApp({
    store,
    config,
    log,
    version: VERSION,
    startedAt: Date.now(),
    checkTarget: (url) => checkTarget(url, config.allowTargets),
    delivery: {
      sendTest: (webhookId, ordering) => enqueueTestEvent(ingest, webhookId, ordering, buildTestMessage(null, Date.now())),
      wake: worker.wake,
      metrics: () => renderPrometheus(metrics, allQueueDepths(store.sqlite), Date.now(), checkpointer) + renderStorageMetrics(data.stats.sizes()),
    },
    accounts: accountsApi,
    backfills: {
      wake: backfills.wake,
      cancel: (id) => {
        const row = endBackfill(store, id, ["planning", "running", "paused"], "cancelled", null, Date.now());
        worker.wake();
        return row;
      },
    },
    media: { dir: mediaDir, key: mediaKey },
    backups: data.backups,
    storage: { problem: () => data.storage.problem, stats: () => data.stats.read() },
  });
  const server = Bun.serve({
    hostname: config.host,
    port: config.port,
    // Our own 1 MiB check answers with the JSON error; Bun's cap only stops abuse.
    maxRequestBodySize: 16 * 1024 * 1024,
    ...edgeHandlers((request) => app.handle(request), log),
  });
  publicUrl = publicUrlFor(config, server.port!);
  setTimeout(listening, WA_LOAD_DELAY_MS);
  worker.start();
  backfills.start();
  // `external`: a replication tool (Litestream) checkpoints; wahook must not.
  if (config.walCheckpoint === "auto") checkpointer.start();
  data.start();
  const accounts = await waReady;
  const resumed = accounts.resumeAll();
  // Which WhatsApp this daemon talks to: an override left in a .env after testing would
  // otherwise look like WhatsApp being down.
  const set = { WAHOOK_WA_URL: config.waUrl, WAHOOK_WA_MEDIA_URL: config.waMediaUrl, WAHOOK_WA_ROOT_KEY: config.waRootKey, WAHOOK_WA_QR_TIMEOUT_S: config.waQrTimeoutMs };
  const overrides = Object.keys(set).filter((name) => set[name as keyof typeof set] !== null);
  log.info("wahook started", {
    version: VERSION,
    url: `http://${config.host}:${server.port}`,
    swagger: `${publicUrl}/swagger`,
    accounts_resumed: resumed,
    whatsapp: config.waUrl ?? WHATSAPP_WEB_SOCKET,
    ...(overrides.length ? { test_overrides: overrides } : {}),
  });

  let stopped: Promise<void> | null = null;
  return {
    port: server.port!,
    store,
    worker,
    commit,
    ingest,
    history,
    backfills,
    accounts,
    stop() {
      stopping = true;
      stopped ??= (async () => {
        const cut = setTimeout(() => server.stop(true), SHUTDOWN_GRACE_MS);
        await server.stop(false);
        clearTimeout(cut);
        jobs?.stop();
        backfills.stop();
        accounts.stopAll();
        // What the sockets received last is stored (and their last frames released).
        commit.close();
        wa?.downloader.stop();
        // Attempts still running after the grace period keep their rows in flight; the
        // next start requeues them (at-least-once, same webhook-id).
        await worker.stop(SHUTDOWN_GRACE_MS);
        checkpointer.stop();
        data.stop();
        store.close();
      })();
      return stopped;
    },
  };
}

export async function serve(config: Config): Promise<void> {
  const log = createLogger(config.logLevel);
  let daemon: Awaited<ReturnType<typeof startDaemon>> | null = null;
  /** A signal that came while starting (the API already answers then): acted on once started. */
  let early: string | null = null;
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (!daemon) {
      early ??= signal;
      return;
    }
    if (stopping) return;
    stopping = true;
    log.info("shutting down", { signal });
    await daemon.stop();
    log.info("stopped");
    process.exit(0);
  };
  // Before start-up ends: without a handler, a SIGTERM then would kill the process outright.
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
  try {
    daemon = await startDaemon(config, log);
  } catch (error) {
    log.debug("start-up failed", { error: (error as Error).stack ?? String(error) });
    process.stderr.write(`wahook: cannot start: ${describeStartupFailure(error, config)}\n`);
    process.exit(2);
  }
  if (early) await shutdown(early);
}

async function main(argv: string[]): Promise<void> {
  const command = parseArgs(argv);
  switch (command.kind) {
    case "version":
      process.stdout.write(`wahook ${VERSION}\n`);
      return;
    case "help":
      process.stdout.write(usage(VERSION));
      return;
    case "usage_error":
      process.stderr.write(`wahook: ${command.message}\n\n${usage(VERSION)}`);
      process.exit(2);
    case "doctor": {
      // Loaded only here: it brings Baileys, which `serve` loads after listening.
      const { runDoctor } = await import("./doctor.ts");
      process.exit(await runDoctor(configOrExit(), (line) => process.stdout.write(`${line}\n`)));
    }
    case "backup": {
      const { runBackupCommand } = await import("./backup/commands.ts");
      process.exit(await runBackupCommand(configOrExit(), command.file, (line) => process.stdout.write(`${line}\n`)));
    }
    case "restore": {
      const { runRestoreCommand } = await import("./backup/commands.ts");
      process.exit(await runRestoreCommand(configOrExit(), command, (line) => process.stdout.write(`${line}\n`)));
    }
    case "serve":
      await serve(configOrExit());
  }
}

function configOrExit(): Config {
  try {
    return loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`wahook: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
}

if (import.meta.main) void main(process.argv.slice(2));
