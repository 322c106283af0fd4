// `older_per_chat` as rows: per chat of a backfill, what was asked of the phone and what came
// back. The backfill stage (src/backfill/older.ts) decides when to ask and when to give up.
import type { Store } from "./db.ts";
import type { RawRow } from "./rows.ts";
import type { backfillOlder } from "./schema.ts";

export type OlderRow = RawRow<typeof backfillOlder>;

/** One waiting row per chat; call inside the transaction that creates the backfill. */
export function addOlderChats(store: Store, backfillId: string, chatIds: string[], wanted: number): void {
  const q = store.sqlite.query("INSERT INTO backfill_older (backfill_id, chat_id, wanted, state) VALUES (?, ?, ?, 'waiting')");
  for (const chat of chatIds) q.run(backfillId, chat, wanted);
}

export function olderRows(store: Store, backfillId: string): OlderRow[] {
  return store.sqlite.query<OlderRow, [string]>("SELECT * FROM backfill_older WHERE backfill_id = ? ORDER BY chat_id").all(backfillId);
}

export function markOlderRequested(store: Store, backfillId: string, chatId: string, requestId: string, now: number): void {
  store.sqlite
    .query("UPDATE backfill_older SET state = 'requested', request_id = ?, requested_at = ?, requests = requests + 1 WHERE backfill_id = ? AND chat_id = ?")
    .run(requestId, now, backfillId, chatId);
}

export function finishOlder(store: Store, backfillId: string, chatId: string, state: Extract<OlderRow["state"], "done" | "unanswered">): void {
  store.sqlite.query("UPDATE backfill_older SET state = ?, request_id = NULL WHERE backfill_id = ? AND chat_id = ?").run(state, backfillId, chatId);
}

/**
 * The phone answered an on-demand request with `count` messages: ask again for more while
 * it keeps answering and fewer than wanted came, else that chat is done. Returns how many
 * rows the answer was for (0: not one of ours).
 */
export function recordOlderAnswer(store: Store, requestId: string, count: number, perRequest: number): number {
  return store.sqlite
    .query(
      `UPDATE backfill_older SET received = received + ?1, request_id = NULL,
         state = CASE WHEN ?1 < MIN(?2, wanted - received) OR received + ?1 >= wanted THEN 'done' ELSE 'waiting' END
       WHERE request_id = ?3`,
    )
    .run(count, perRequest, requestId).changes;
}
