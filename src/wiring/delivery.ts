// The delivery stage: ingest of live messages and history into the outbox, the worker
// that sends it, and the backfill runner that paces history into it. The daemon (main.ts)
// and the API test fixture build it with this same function.
import type { Config } from "../config.ts";
import { HISTORY_SETTLE_MS } from "../backfill/plan.ts";
import { BackfillRunner } from "../backfill/runner.ts";
import { DeliveryMetrics } from "../delivery/metrics.ts";
import type { Timeouts } from "../delivery/send.ts";
import { DeliveryWorker } from "../delivery/worker.ts";
import { DEFAULT_BACKFILL_RATE_PER_S, type Message } from "../domain.ts";
import type { HistoryDeps } from "../ingest/history.ts";
import type { IngestDeps } from "../ingest/ingest.ts";
import type { Logger } from "../log.ts";
import type { MediaLinks } from "../mediaLinks.ts";
import { accountContact } from "../store/accounts.ts";
import type { Store } from "../store/db.ts";
import type { GroupCommit } from "../store/groupCommit.ts";
import { VERSION } from "../version.ts";
import { MEDIA_HOLD_MS } from "../wa/limits.ts";

export interface DeliveryStage {
  metrics: DeliveryMetrics;
  worker: DeliveryWorker;
  ingest: IngestDeps;
  history: HistoryDeps;
  backfills: BackfillRunner;
}

export interface DeliveryInputs {
  config: Config;
  log: Logger;
  store: Store;
  links: MediaLinks;
  /** The WhatsApp stage, which loads later: until then there is nothing to download and no phone to ask. */
  whatsapp: {
    wakeMedia(): void;
    requestOlder(accountId: string, oldest: Message, count: number): Promise<string>;
  };
  /** The daemon's group commit; the API tests have none (their ingests commit on their own). */
  commit?: GroupCommit;
  /** Told of every write the database refused (a full disk shows in /health). */
  onDbError?(error: unknown): void;
  /** Tests shorten the receivers' timeouts. */
  timeouts?: Timeouts;
}

/** Builds the stage; nothing runs until its worker and runner are started. */
export function buildDelivery(i: DeliveryInputs): DeliveryStage {
  const { config, log, store, whatsapp, commit } = i;
  const metrics = new DeliveryMetrics();
  const worker = new DeliveryWorker({
    store,
    log,
    allow: config.allowTargets,
    userAgent: `wahook/${VERSION}`,
    accountInfo: (id) => accountContact(store, id),
    fileUrl: (_message, rowid, queuedAt) => i.links.fileUrl(rowid, queuedAt),
    metrics,
    onDbError: i.onDbError,
    timeouts: i.timeouts,
  });
  const ingest: IngestDeps = {
    store,
    decryptGraceMs: config.decryptGraceMs,
    wake: worker.wake,
    onIngested: (m) => metrics.message(m.accountId),
    whenCommitted: commit && ((fn) => commit.whenCommitted(fn)),
    media: { maxBytes: config.mediaMaxBytes, holdMs: MEDIA_HOLD_MS, onQueued: whatsapp.wakeMedia },
  };
  const history: HistoryDeps = { store, mediaMaxBytes: config.mediaMaxBytes, settleMs: HISTORY_SETTLE_MS, autoRatePerS: DEFAULT_BACKFILL_RATE_PER_S };
  const backfills = new BackfillRunner({
    store,
    log,
    wakeDelivery: worker.wake,
    wakeMedia: whatsapp.wakeMedia,
    mediaHoldMs: MEDIA_HOLD_MS,
    requestOlder: whatsapp.requestOlder,
  });
  return { metrics, worker, ingest, history, backfills };
}
