// What retention removes: picked here, deleted by the module that writes each table. Each
// kind of row has its own clock, counted from when the row was done with, never from when
// it was made:
// - a delivered event and its attempts: from its delivery (an event that waited days in a
//   retry schedule still has its full log for WAHOOK_RETENTION_DAYS after it went out);
// - a dead letter and its attempts: kept until replayed, or from its last attempt when a
//   period of its own is set; pending and in-flight rows are never touched;
// - a stored message: from when it was sent, only when a period is set, and never while a
//   delivery of it is open or dead-lettered;
// - a media file: once no link handed out can still be valid and nothing queued needs it.
// Deletes go in slices, each its own transaction, so a large backlog never holds the
// write lock for long.
import type { Store } from "./db.ts";
import type { RawRow } from "./rows.ts";
import type { messages, outbox } from "./schema.ts";
import { deleteMediaOfMessages, forgetMediaFiles, type MediaRow } from "./media.ts";
import { deleteMessages } from "./messages.ts";
import { deleteRows, deleteRowsOfMessages } from "./outbox.ts";

const SLICE = 5_000;

export interface Removed {
  outbox: number;
  attempts: number;
}

/** Deletes the outbox rows `select` picks (ids, at most SLICE), with their attempts, slice by slice. */
function deleteOutboxRows(store: Store, select: string, args: (string | number)[]): Removed {
  const { sqlite } = store;
  const removed: Removed = { outbox: 0, attempts: 0 };
  const pick = sqlite.query<Pick<RawRow<typeof outbox>, "id">, (string | number)[]>(`${select} LIMIT ${SLICE}`);
  for (;;) {
    const n = sqlite
      .transaction(() => {
        const gone = deleteRows(sqlite, pick.all(...args).map((r) => r.id));
        removed.attempts += gone.attempts;
        removed.outbox += gone.outbox;
        return gone.outbox;
      })
      .immediate();
    if (n < SLICE) return removed;
  }
}

/**
 * Delivered events that went out before `before`, with their attempts. The partial index
 * outbox_delivered_time (on created_at) finds the candidates: a row delivered before the
 * cut was also made before it.
 */
export function pruneDelivered(store: Store, before: number): Removed {
  return deleteOutboxRows(
    store,
    "SELECT id FROM outbox WHERE status = 'delivered' AND created_at < ?1 AND COALESCE(delivered_at, last_attempt_at, created_at) < ?1",
    [before],
  );
}

/** Dead letters whose last attempt was before `before`, with their attempts. */
export function pruneDeadLetters(store: Store, before: number): Removed {
  return deleteOutboxRows(store, "SELECT id FROM outbox WHERE status = 'failed' AND COALESCE(last_attempt_at, created_at) < ?1", [before]);
}

/**
 * Messages sent before `beforeUnixS` that no open delivery or dead letter needs, with their
 * delivered events, attempts and media rows. Returns the media files to delete once this
 * has committed (a crash in between leaves orphans for pruneOrphanMedia).
 */
export function pruneMessages(store: Store, beforeUnixS: number): { messages: number; outbox: number; attempts: number; files: string[] } {
  const { sqlite } = store;
  const out = { messages: 0, outbox: 0, attempts: 0, files: [] as string[] };
  const pick = sqlite.query<Pick<RawRow<typeof messages>, "rowid">, [number]>(
    // A delivery still owed (pending, in flight) or that may be replayed (dead letter) keeps its message.
    `SELECT rowid FROM messages m WHERE timestamp < ?
       AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.message_rowid = m.rowid AND o.status IN ('pending', 'in_flight', 'failed'))
     LIMIT ${SLICE}`,
  );
  for (;;) {
    const n = sqlite
      .transaction(() => {
        const rowids = pick.all(beforeUnixS).map((r) => r.rowid);
        const gone = deleteRowsOfMessages(sqlite, rowids);
        out.attempts += gone.attempts;
        out.outbox += gone.outbox;
        out.files.push(...deleteMediaOfMessages(store, rowids));
        const removed = deleteMessages(store, rowids);
        out.messages += removed;
        return removed;
      })
      .immediate();
    if (n < SLICE) return out;
  }
}

/**
 * Downloaded media no one can still need: downloaded before `before` (now − the media
 * link TTL), and every delivery of its message finished before it too (a link lives
 * WAHOOK_MEDIA_TTL_DAYS from the delivery that carried it), none open or dead-lettered.
 * Returns the files to delete after this commits.
 */
export function expireMedia(store: Store, before: number): string[] {
  const { sqlite } = store;
  const files: string[] = [];
  const pick = sqlite.query<Pick<MediaRow, "id"> & { path: string }, [number]>(
    `SELECT id, path FROM media m WHERE status = 'ready' AND created_at < ?1 AND path IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.message_rowid = m.message_rowid
         AND (o.status IN ('pending', 'in_flight', 'failed') OR o.delivered_at >= ?1))
     LIMIT ${SLICE}`,
  );
  for (;;) {
    const rows = sqlite
      .transaction(() => {
        const picked = pick.all(before);
        forgetMediaFiles(store, picked.map((r) => r.id));
        return picked;
      })
      .immediate();
    files.push(...rows.map((r) => r.path));
    if (rows.length < SLICE) return files;
  }
}

/** Every media file the store refers to (what is not here is an orphan). */
export function referencedMediaFiles(store: Store): Set<string> {
  return new Set(store.sqlite.query<Pick<MediaRow, "path">, []>("SELECT path FROM media WHERE path IS NOT NULL").all().map((r) => r.path!));
}

/** The account's media files, read before `purge` deletes their rows. */
export function mediaFilesOfAccount(store: Store, accountId: string): string[] {
  return store.sqlite
    .query<Pick<MediaRow, "path">, [string]>("SELECT path FROM media WHERE account_id = ? AND path IS NOT NULL")
    .all(accountId)
    .map((r) => r.path!);
}
