// Media of stored messages: one row per message with media, its download state, and the
// file once downloaded. Outbox rows of a message whose media is downloading are held
// (available_at in the future) and released when the download ends either way.
import type { Store } from "./db.ts";
import type { MediaStatus } from "../domain.ts";
import { newId } from "./ids.ts";
import { releaseHeld } from "./outbox.ts";
import type { RawRow } from "./rows.ts";
import type { media } from "./schema.ts";

export type MediaRow = RawRow<typeof media>;

export function insertMedia(
  store: Store,
  v: { accountId: string; messageRowid: number; status: MediaStatus; mimeType: string | null; fileName: string | null; fileSize: number | null },
  now: number,
): MediaRow {
  return store.sqlite
    .query<MediaRow, (string | number | null)[]>(
      `INSERT INTO media (id, account_id, message_rowid, status, attempts, next_attempt_at, mime_type, file_name, file_size, created_at)
       VALUES (?, ?, ?, ?, 0, ?, ?, ?, ?, ?) RETURNING *`,
    )
    .get(newId("med", now), v.accountId, v.messageRowid, v.status, now, v.mimeType, v.fileName, v.fileSize, now)!;
}

export function getMedia(store: Store, id: string): MediaRow | null {
  return store.sqlite.query<MediaRow, [string]>("SELECT * FROM media WHERE id = ?").get(id);
}

export function mediaOfMessage(store: Store, messageRowid: number): MediaRow | null {
  return store.sqlite.query<MediaRow, [number]>("SELECT * FROM media WHERE message_rowid = ?").get(messageRowid);
}

/** Downloads that are due, oldest first. */
export function dueMedia(store: Store, now: number, limit: number): MediaRow[] {
  return store.sqlite
    .query<MediaRow, [number, number]>("SELECT * FROM media WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?")
    .all(now, limit);
}

/** The download ended (ready, too large or failed for good): its deliveries may go now. */
export function finishMedia(
  store: Store,
  id: string,
  v: { status: Exclude<MediaStatus, "pending">; path?: string | null; fileSize?: number | null; error?: string | null },
  now: number,
): void {
  store.sqlite
    .transaction(() => {
      const row = store.sqlite
        .query<Pick<MediaRow, "message_rowid">, (string | number | null)[]>(
          `UPDATE media SET status = ?, path = COALESCE(?, path), file_size = COALESCE(?, file_size), error = ? WHERE id = ? RETURNING message_rowid`,
        )
        .get(v.status, v.path ?? null, v.fileSize ?? null, v.error ?? null, id);
      if (row) releaseHeld(store.sqlite, row.message_rowid, now);
    })
    .immediate();
}

export function retryMedia(store: Store, id: string, nextAttemptAt: number, error: string): void {
  store.sqlite.query("UPDATE media SET attempts = attempts + 1, next_attempt_at = ?, error = ? WHERE id = ?").run(nextAttemptAt, error, id);
}

/**
 * A backfill is about to send a message: its deferred media starts downloading now.
 * Returns the media's status afterwards (null when the message has none), so the caller
 * holds the delivery while it is `pending`.
 */
export function wakeDeferredMedia(store: Store, messageRowid: number, now: number): MediaStatus | null {
  const row = store.sqlite
    .query<Pick<MediaRow, "status">, [number, number]>(
      `UPDATE media SET status = CASE WHEN status = 'deferred' THEN 'pending' ELSE status END,
         next_attempt_at = CASE WHEN status = 'deferred' THEN ?1 ELSE next_attempt_at END
       WHERE message_rowid = ?2 RETURNING status`,
    )
    .get(now, messageRowid);
  return row?.status ?? null;
}

/** Media rows of these messages; returns the files they named, to delete once this commits. */
export function deleteMediaOfMessages(store: Store, messageRowids: number[]): string[] {
  return store.sqlite
    .query<Pick<MediaRow, "path">, [string]>("DELETE FROM media WHERE message_rowid IN (SELECT value FROM json_each(?)) RETURNING path")
    .all(JSON.stringify(messageRowids))
    .flatMap((r) => (r.path === null ? [] : [r.path]));
}

/**
 * Downloaded files given up (retention): the rows go back to `deferred`, so a later
 * backfill of their message downloads the file again, if WhatsApp still has it.
 */
export function forgetMediaFiles(store: Store, ids: string[]): void {
  store.sqlite.query("UPDATE media SET status = 'deferred', path = NULL, next_attempt_at = 0 WHERE id IN (SELECT value FROM json_each(?))").run(JSON.stringify(ids));
}
