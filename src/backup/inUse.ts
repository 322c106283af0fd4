// Is a data folder in use? A running daemon (or any tool) holds its database open, and on
// Linux every open file is visible under /proc/<pid>/fd, also after a kill -9 left the
// WAL behind: unlike a lock or pid file, nothing stale can claim the folder, and nothing
// has to be cleaned up. Processes of other users are not visible to a non-root restore,
// but such a user cannot write into a daemon's owner-only folder either.
import { existsSync, readdirSync, readlinkSync } from "node:fs";
import { join } from "node:path";

const DB_FILES = ["wahook.db", "wahook.db-wal", "wahook.db-shm"];

/** Ids of other processes that hold the folder's database open; null when /proc cannot tell. */
export function processesUsing(dataDir: string): number[] | null {
  if (!existsSync("/proc/self/fd")) return null;
  const targets = new Set(DB_FILES.map((f) => join(dataDir, f)));
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue; // gone, or another user's
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(`/proc/${entry}/fd/${fd}`);
      } catch {
        continue;
      }
      if (targets.has(target)) {
        pids.push(Number(entry));
        break;
      }
    }
  }
  return pids;
}
