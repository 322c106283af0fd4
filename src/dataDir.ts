// The data folder holds WhatsApp credentials, webhook secrets and media: owner-only, the
// folder and every file in it. New files get it from the process's umask; files made by
// older versions (the database was created 0644 before) are tightened once, at start.
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "./log.ts";

/** Only the owner may read or write what the daemon creates from now on. */
const OWNER_ONLY_UMASK = 0o077;

export function prepareDataDir(dir: string, log: Logger): void {
  process.umask(OWNER_ONLY_UMASK);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const loosened: string[] = [];
  tighten(dir, TOP_LEVEL, loosened);
  // A loose database means an older version made this folder: its media files may be
  // loose too. Otherwise they were made under our umask, and a start need not stat each.
  if (loosened.length) tighten(dir, WITH_MEDIA, loosened);
  if (loosened.length) log.warn("data folder permissions tightened to owner-only", { dir, paths: loosened.length, first: loosened.slice(0, 5) });
}

/** How deep to look: the folder's own files, or also the media folder's (one level down). */
const TOP_LEVEL = 1;
const WITH_MEDIA = 2;

function tighten(path: string, levels: number, loosened: string[]): void {
  if (!existsSync(path)) return;
  const stat = lstatSync(path);
  // A symlink's own mode means nothing, and following one could chmod a file elsewhere.
  if (stat.isSymbolicLink()) return;
  const wanted = stat.isDirectory() ? 0o700 : 0o600;
  if ((stat.mode & 0o777 & ~wanted) !== 0) {
    chmodSync(path, wanted);
    loosened.push(path);
  }
  if (stat.isDirectory() && levels > 0) for (const name of readdirSync(path)) tighten(join(path, name), levels - 1, loosened);
}
