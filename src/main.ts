// The daemon's object graph: config → data folder → store → delivery → api → jobs →
// WhatsApp. Each stage is built by one function in wiring/; this file orders them, starts
// them and stops them. The command line and signals are cli.ts's.
import type { BackfillRunner } from "./backfill/runner.ts";
import { publicUrlFor, type Config } from "./config.ts";
import type { DeliveryWorker } from "./delivery/worker.ts";
import type { HistoryDeps } from "./ingest/history.ts";
import type { IngestDeps } from "./ingest/ingest.ts";
import type { Logger } from "./log.ts";
import { MediaLinks } from "./mediaLinks.ts";
import { raiseOpenFilesLimit } from "./openFiles.ts";
import type { Store } from "./store/db.ts";
import type { GroupCommit } from "./store/groupCommit.ts";
import { VERSION } from "./version.ts";
import type { AccountManager } from "./wa/accounts.ts";
import { buildApi, listen } from "./wiring/api.ts";
import { buildDelivery } from "./wiring/delivery.ts";
import { startTimedJobs } from "./wiring/jobs.ts";
import { openStorage } from "./wiring/storage.ts";
import { LateWhatsApp, waStageOptions } from "./wiring/whatsapp.ts";

/** Where Baileys connects unless WAHOOK_WA_URL says otherwise (its DEFAULT_CONNECTION_CONFIG). */
const WHATSAPP_WEB_SOCKET = "wss://web.whatsapp.com/ws/chat";

/** The API's head start over loading Baileys at start-up (see startDaemon). */
const WA_LOAD_DELAY_MS = 25;

/** How long in-flight requests may take to finish after SIGTERM before they are cut. */
const SHUTDOWN_GRACE_MS = 10_000;

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

export interface DaemonOptions {
  /** No terminal QR art in the log (tests). */
  quietQr?: boolean;
  /** Media download retry delays (tests shorten the 2 s / 10 s / 30 s default). */
  mediaRetryMs?: number[];
}

/**
 * Builds the stages, starts listening, then loads the WhatsApp stage and resumes the
 * paired accounts. Resolves once all of it runs.
 */
export async function startDaemon(config: Config, log: Logger, opts: DaemonOptions = {}): Promise<Daemon> {
  // Before anything opens a file: every WhatsApp account holds one (wa/fdBudget.ts).
  const openFiles = raiseOpenFilesLimit();
  const storage = openStorage(config, log);
  const { store, data, checkpointer, commit } = storage;
  const links = new MediaLinks(store, config);
  const whatsapp = new LateWhatsApp();
  const delivery = buildDelivery({ config, log, store, links, whatsapp, commit, onDbError: data.storage.report });
  const { worker, backfills } = delivery;
  const api = buildApi({ config, log, version: VERSION, store, delivery, data, accounts: whatsapp.accountsApi(data), media: links, wal: checkpointer });
  const server = listen(api);
  links.listeningAt(publicUrlFor(config, server.port!));
  worker.start();
  backfills.start();
  // `external`: a replication tool (Litestream) checkpoints; wahook must not.
  if (config.walCheckpoint === "auto") checkpointer.start();
  data.start();

  // Baileys is loaded once the server has had a moment to answer: evaluating it blocks the
  // event loop for about 100 ms (as long as everything before it), and the API needs none
  // of it. The timed jobs too: setting up their schedules took 18-35 ms of start-up, and
  // the first of them is due only a second later.
  await Bun.sleep(WA_LOAD_DELAY_MS);
  const jobs = startTimedJobs(store, log, data, delivery, whatsapp.wakeMedia);
  const accounts = await whatsapp.load(waStageOptions({ config, log, storage, delivery, links, openFiles, quietQr: opts.quietQr, mediaRetryMs: opts.mediaRetryMs }));
  const resumed = accounts.resumeAll();
  logStarted(log, config, server.port!, resumed);

  let stopped: Promise<void> | null = null;
  return {
    port: server.port!,
    store,
    worker,
    commit,
    ingest: delivery.ingest,
    history: delivery.history,
    backfills,
    accounts,
    stop() {
      stopped ??= (async () => {
        const cut = setTimeout(() => server.stop(true), SHUTDOWN_GRACE_MS);
        await server.stop(false);
        clearTimeout(cut);
        jobs.stop();
        backfills.stop();
        whatsapp.stop();
        // What the sockets received last is stored (and their last frames released).
        commit.close();
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

function logStarted(log: Logger, config: Config, port: number, resumed: number): void {
  // Which WhatsApp this daemon talks to: an override left in a .env after testing would
  // otherwise look like WhatsApp being down.
  const set = { WAHOOK_WA_URL: config.waUrl, WAHOOK_WA_MEDIA_URL: config.waMediaUrl, WAHOOK_WA_ROOT_KEY: config.waRootKey, WAHOOK_WA_QR_TIMEOUT_S: config.waQrTimeoutMs };
  const overrides = Object.keys(set).filter((name) => set[name as keyof typeof set] !== null);
  log.info("wahook started", {
    version: VERSION,
    url: `http://${config.host}:${port}`,
    swagger: `${publicUrlFor(config, port)}/swagger`,
    accounts_resumed: resumed,
    whatsapp: config.waUrl ?? WHATSAPP_WEB_SOCKET,
    ...(overrides.length ? { test_overrides: overrides } : {}),
  });
}
