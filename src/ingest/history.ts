// History → rows, in batches. History is stored, not delivered: a backfill sends it later,
// paced. When a webhook asks for history (`include_history`), the batch's transaction
// also opens (or extends) the account's automatic backfill, so what is stored will be
// sent even if the process dies right after the commit.
import type { Message } from "../domain.ts";
import type { Store } from "../store/db.ts";
import { touchAutoBackfill } from "../store/backfills.ts";
import { insertMedia } from "../store/media.ts";
import { insertMessage, replaceCiphertext } from "../store/messages.ts";
import { historyWebhooks } from "../store/webhooks.ts";

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

export interface HistoryResult {
  stored: number;
  duplicates: number;
  /** The automatic backfill that will deliver these messages, if any webhook asked for history. */
  autoBackfillId: string | null;
}

/** Stores history messages of one account; duplicates (already stored) change nothing. */
export function ingestHistory(deps: HistoryDeps, accountId: string, messages: Message[], now = Date.now()): HistoryResult {
  const { sqlite } = deps.store;
  const result: HistoryResult = { stored: 0, duplicates: 0, autoBackfillId: null };
  for (let start = 0; start < messages.length; start += HISTORY_BATCH) {
    const batch = messages.slice(start, start + HISTORY_BATCH);
    sqlite
      .transaction(() => {
        let first: number | null = null;
        for (const message of batch) {
          const stored = { ...message, history: true };
          // A placeholder stored before (live or from history) takes the content: the same rule as live ingest.
          const rowid = (message.type === "ciphertext" ? null : replaceCiphertext(sqlite, stored)) ?? insertMessage(sqlite, stored, now);
          if (rowid === null) {
            result.duplicates++;
            continue;
          }
          first ??= rowid;
          result.stored++;
          if (message.media) {
            const tooLarge = message.media.file_size !== null && message.media.file_size > deps.mediaMaxBytes;
            // Old media is fetched only when a backfill sends its message: most history is never sent.
            insertMedia(
              sqlite,
              {
                accountId,
                messageRowid: rowid,
                status: tooLarge ? "too_large" : "deferred",
                mimeType: message.media.mime_type,
                fileName: message.media.file_name,
                fileSize: message.media.file_size,
              },
              now,
            );
          }
        }
        if (first !== null && historyWebhooks(sqlite, accountId).length) {
          result.autoBackfillId = touchAutoBackfill(sqlite, accountId, first - 1, now + deps.settleMs, deps.autoRatePerS, now);
        }
      })
      .immediate();
  }
  return result;
}
