// What an admin watching a backfill sees: counts, percent done and an estimate of the time
// left (progressOf: pure, from the job row and its outbox counts), and each chat's
// older-message requests.
import { olderRows, type OlderRow } from "../store/backfillOlder.ts";
import { backfillOutcomes, type BackfillRow, type OutcomeCounts } from "../store/backfills.ts";
import type { Store } from "../store/db.ts";

export interface Progress {
  /** (message, webhook) pairs selected; null while planning. */
  total: number | null;
  enqueued: number;
  /** Pairs not sent because that webhook already got the message (see `redeliver`). */
  skipped: number;
  delivered: number;
  failed: number;
  /** Queued and not yet delivered or dead-lettered. */
  pending: number;
  percent: number | null;
  /** Seconds left at the job's pace; null when unknown or ended. */
  eta_s: number | null;
}

const ENDED = new Set(["finished", "cancelled", "failed"]);

export function progressOf(row: BackfillRow, outcomes: OutcomeCounts): Progress {
  const ended = ENDED.has(row.state);
  const delivered = ended && row.delivered !== null ? row.delivered : outcomes.delivered;
  const failed = ended && row.failed !== null ? row.failed : outcomes.failed;
  const pending = outcomes.pending + outcomes.in_flight;
  const total = row.total;
  if (total === null) return { total, enqueued: row.enqueued, skipped: row.skipped, delivered, failed, pending, percent: null, eta_s: null };
  const done = delivered + failed + row.skipped;
  const percent = total === 0 ? 100 : Math.min(100, Math.floor((done / total) * 1000) / 10);
  let eta: number | null = null;
  if (!ended && row.state !== "paused") {
    // What is left to queue goes at the job's pace; what is queued goes out about as fast.
    const toQueue = Math.max(0, total - row.enqueued - row.skipped);
    const webhooks = Math.max(1, (JSON.parse(row.webhook_ids) as string[]).length);
    eta = Math.ceil((toQueue / webhooks + pending / webhooks) / row.rate_per_s);
  }
  return { total, enqueued: row.enqueued, skipped: row.skipped, delivered, failed, pending, percent, eta_s: eta };
}

/** A job as an admin sees it now: its progress and, with `older_per_chat`, each chat's requests. */
export function backfillStatus(store: Store, row: BackfillRow): { progress: Progress; older: OlderRow[] | null } {
  return { progress: progressOf(row, backfillOutcomes(store, row.id)), older: row.older_per_chat ? olderRows(store, row.id) : null };
}
