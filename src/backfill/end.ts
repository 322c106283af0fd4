// How a job ends: finished (its rows delivered), failed (it cannot go on) or cancelled by
// an admin. Counts are frozen into the row and its webhooks that subscribe to
// `backfill.finished` are told, in the same transaction.
import type { BackfillState } from "../domain.ts";
import { endBackfill, type BackfillRow } from "../store/backfills.ts";
import type { Store } from "../store/db.ts";
import { PRIORITY_BACKFILL } from "../store/outbox.ts";

export type EndState = Extract<BackfillState, "finished" | "failed" | "cancelled">;

/** Null when the job was in none of `from` (it had ended, or moved meanwhile). */
export function endJob(store: Store, id: string, from: BackfillState[], state: EndState, error: string | null, now: number): BackfillRow | null {
  return endBackfill(store, { id, from, state, error, now }, { priority: PRIORITY_BACKFILL, body: finishedEventBody });
}

function finishedEventBody(row: BackfillRow) {
  return {
    account_id: row.account_id,
    backfill: {
      id: row.id,
      state: row.state,
      total: row.total,
      enqueued: row.enqueued,
      skipped: row.skipped,
      delivered: row.delivered,
      failed: row.failed,
      started_at: row.started_at === null ? null : new Date(row.started_at).toISOString(),
      finished_at: row.finished_at === null ? null : new Date(row.finished_at).toISOString(),
      error: row.error,
    },
  };
}
