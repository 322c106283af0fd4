// Media of stored messages: one row per message with media, its download state, and the
// file once downloaded. Outbox rows of a message whose media is downloading are held
// (available_at in the future) and released when the download ends either way.
import type { Database } from "bun:sqlite";
import { newId } from "./ids.ts";

/** `deferred`: history media, downloaded only once a backfill sends its message. */
export type MediaStatus = "deferred" | "pending" | "ready" | "too_large" | "failed";

export interface MediaRow {
  id: string;
  account_id: string;
  message_rowid: number;
  status: MediaStatus;
  attempts: number;
  next_attempt_at: number;
  path: string | null;
  mime_type: string | null;
  file_name: string | null;
  file_size: number | null;
  error: string | null;
  created_at: number;
}

export function insertMedia(
  sqlite: Database,
  v: { accountId: string; messageRowid: number; status: MediaStatus; mimeType: string | null; fileName: string | null; fileSize: number | null },
  now: number,
): MediaRow {
  return sqlite
    .query<MediaRow, (string | number | null)[]>(
      `INSERT INTO media (id, account_id, message_rowid, status, attempts, next_attempt_at, mime_type, file_name, file_size, created_at)
       VALUES (?, ?, ?, ?, 0, ?, ?, ?, ?, ?) RETURNING *`,
    )
    .get(newId("med", now), v.accountId, v.messageRowid, v.status, now, v.mimeType, v.fileName, v.fileSize, now)!;
}

export function getMedia(sqlite: Database, id: string): MediaRow | null {
  return sqlite.query<MediaRow, [string]>("SELECT * FROM media WHERE id = ?").get(id);
}

export function mediaOfMessage(sqlite: Database, messageRowid: number): MediaRow | null {
  return sqlite.query<MediaRow, [number]>("SELECT * FROM media WHERE message_rowid = ?").get(messageRowid);
}

/** Downloads that are due, oldest first. */
export function dueMedia(sqlite: Database, now: number, limit: number): MediaRow[] {
  return sqlite
    .query<MediaRow, [number, number]>("SELECT * FROM media WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?")
    .all(now, limit);
}

/** The download ended (ready, too large or failed for good): its deliveries may go now. */
export function finishMedia(
  sqlite: Database,
  id: string,
  v: { status: Exclude<MediaStatus, "pending">; path?: string | null; fileSize?: number | null; error?: string | null },
  now: number,
): void {
  sqlite
    .transaction(() => {
      const row = sqlite
        .query<{ message_rowid: number }, (string | number | null)[]>(
          `UPDATE media SET status = ?, path = COALESCE(?, path), file_size = COALESCE(?, file_size), error = ? WHERE id = ? RETURNING message_rowid`,
        )
        .get(v.status, v.path ?? null, v.fileSize ?? null, v.error ?? null, id);
      if (row) releaseHeld(sqlite, row.message_rowid, now);
    })
    .immediate();
}

export function retryMedia(sqlite: Database, id: string, nextAttemptAt: number, error: string): void {
  sqlite.query("UPDATE media SET attempts = attempts + 1, next_attempt_at = ?, error = ? WHERE id = ?").run(nextAttemptAt, error, id);
}

/** Pending deliveries of a message that were waiting for its media become due now. */
export function releaseHeld(sqlite: Database, messageRowid: number, now: number): void {
  sqlite.query("UPDATE outbox SET available_at = ? WHERE message_rowid = ? AND status = 'pending' AND available_at > ?").run(now, messageRowid, now);
}

export function kvGet(sqlite: Database, key: string): string | null {
  return sqlite.query<{ value: string }, [string]>("SELECT value FROM kv WHERE key = ?").get(key)?.value ?? null;
}

/** Sets the value unless one exists; returns the stored value (first writer wins). */
export function kvGetOrSet(sqlite: Database, key: string, value: string): string {
  sqlite.query("INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING").run(key, value);
  return kvGet(sqlite, key)!;
}

/**
 * A backfill is about to send a message: its deferred media starts downloading now.
 * Returns the media's status afterwards (null when the message has none), so the caller
 * holds the delivery while it is `pending`.
 */
export function wakeDeferredMedia(sqlite: Database, messageRowid: number, now: number): MediaStatus | null {
  const row = sqlite
    .query<{ status: MediaStatus }, [number, number]>(
      `UPDATE media SET status = CASE WHEN status = 'deferred' THEN 'pending' ELSE status END,
         next_attempt_at = CASE WHEN status = 'deferred' THEN ?1 ELSE next_attempt_at END
       WHERE message_rowid = ?2 RETURNING status`,
    )
    .get(now, messageRowid);
  return row?.status ?? null;
}
