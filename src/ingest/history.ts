// History → rows, in batches. History is stored, not delivered: a backfill sends it later,
// paced. When a webhook asks for history (`include_history`), each batch's transaction also
// opens (or extends) the account's automatic backfill (store/intake.ts).
import type { Message } from "../domain.ts";
import type { Store } from "../store/db.ts";
import { storeHistoryBatch, type HistoryBatchResult } from "../store/intake.ts";
import { isTooLarge } from "./ingest.ts";

/** Rows per transaction: large enough to amortise the commit, small enough to let live writes in. */
export const HISTORY_BATCH = 500;

export interface HistoryDeps {
  store: Store;
  /** Media above this size is never downloaded. */
  mediaMaxBytes: number;
  /** How long history must be quiet before an automatic backfill starts planning. */
  settleMs: number;
  /** Pace of automatic backfills, messages per second per webhook. */
  autoRatePerS: number;
}

/** Stores history messages of one account; duplicates (already stored) change nothing. */
export function ingestHistory(deps: HistoryDeps, accountId: string, messages: Message[], now = Date.now()): HistoryBatchResult {
  const result: HistoryBatchResult = { stored: 0, duplicates: 0, autoBackfillId: null };
  for (let start = 0; start < messages.length; start += HISTORY_BATCH) {
    const batch = messages.slice(start, start + HISTORY_BATCH).map((m) => ({ ...m, history: true }));
    const stored = storeHistoryBatch(deps.store, accountId, batch, {
      // Old media is fetched only when a backfill sends its message: most history is never sent.
      mediaOf: (m) => (isTooLarge(m, deps.mediaMaxBytes) ? "too_large" : "deferred"),
      autoBackfill: { planAfter: now + deps.settleMs, ratePerS: deps.autoRatePerS },
      now,
    });
    result.stored += stored.stored;
    result.duplicates += stored.duplicates;
    result.autoBackfillId = stored.autoBackfillId ?? result.autoBackfillId;
  }
  return result;
}
