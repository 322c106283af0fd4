// Retention as the hourly job runs it: the rows store/retention.ts may remove under the
// configured periods, then the media files those rows no longer name, then files no row
// names at all (left by a crash between a commit and an unlink, or by an older version).
import { readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Store } from "./store/db.ts";
import { expireMedia, pruneDeadLetters, pruneDelivered, pruneMessages, referencedMediaFiles, type Removed } from "./store/retention.ts";

const DAY_MS = 86_400_000;
/** A file younger than this may be a download whose row is not committed yet. */
const ORPHAN_GRACE_MS = 3_600_000;

export interface RetentionSettings {
  /** WAHOOK_RETENTION_DAYS: delivered events and their attempts, from their delivery. */
  deliveredDays: number;
  /** WAHOOK_DEAD_LETTER_DAYS: null keeps dead letters until replayed. */
  deadLetterDays: number | null;
  /** WAHOOK_MESSAGE_RETENTION_DAYS: null keeps stored messages. */
  messageDays: number | null;
  /** WAHOOK_MEDIA_TTL_DAYS in ms: how long a media link handed out stays valid. */
  mediaTtlMs: number;
}

export interface RetentionReport {
  delivered: Removed;
  deadLetters: Removed | null;
  messages: number;
  mediaFiles: number;
  orphanFiles: number;
}

export function runRetention(store: Store, mediaDir: string, settings: RetentionSettings, now = Date.now()): RetentionReport {
  const delivered = pruneDelivered(store, now - settings.deliveredDays * DAY_MS);
  const deadLetters = settings.deadLetterDays === null ? null : pruneDeadLetters(store, now - settings.deadLetterDays * DAY_MS);
  let messages = 0;
  let mediaFiles = 0;
  if (settings.messageDays !== null) {
    const pruned = pruneMessages(store, Math.floor((now - settings.messageDays * DAY_MS) / 1000));
    messages = pruned.messages;
    mediaFiles += removeMediaFiles(mediaDir, pruned.files);
  }
  mediaFiles += removeMediaFiles(mediaDir, expireMedia(store, now - settings.mediaTtlMs));
  const orphanFiles = pruneOrphanMedia(store, mediaDir, now);
  return { delivered, deadLetters, messages, mediaFiles, orphanFiles };
}

/** Deletes media files by name (a file already gone counts as deleted). */
export function removeMediaFiles(mediaDir: string, names: string[]): number {
  for (const name of names) rmSync(join(mediaDir, name), { force: true });
  return names.length;
}

/** Files in the media folder that no row names, older than an hour. */
export function pruneOrphanMedia(store: Store, mediaDir: string, now = Date.now()): number {
  let names: string[];
  try {
    names = readdirSync(mediaDir);
  } catch {
    return 0;
  }
  const known = referencedMediaFiles(store);
  let removed = 0;
  for (const name of names) {
    if (known.has(name)) continue;
    const stat = statSync(join(mediaDir, name), { throwIfNoEntry: false });
    if (!stat?.isFile() || now - stat.mtimeMs < ORPHAN_GRACE_MS) continue;
    rmSync(join(mediaDir, name), { force: true });
    removed++;
  }
  return removed;
}
