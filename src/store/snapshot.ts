// The database side of backups: a consistent copy of the live database taken through a
// connection of its own, what that copy holds (for the manifest), and the checks a
// restored copy must pass before it replaces anything.
import { Database } from "bun:sqlite";
import { openReadOnly } from "./db.ts";
import { accountSummaries, appliedMigrations, databaseSize, queueCounts, readyMediaPaths, rowCounts, type AccountSummary, type QueueCounts, type RowCounts } from "./stats.ts";

/**
 * VACUUM INTO runs in one read transaction: under WAL it sees one instant of the database
 * and neither waits for nor blocks the daemon's writer (a checkpoint just cannot pass it
 * until it ends). Throws when `dbFile` is not there or not a database.
 */
export function snapshotDatabase(dbFile: string, to: string): void {
  const sqlite = new Database(dbFile, { readwrite: true, create: false });
  try {
    sqlite.exec("PRAGMA busy_timeout = 5000");
    sqlite.query("VACUUM INTO ?").run(to);
  } finally {
    sqlite.close();
  }
}

export interface SnapshotSummary {
  migrations: string[];
  accounts: AccountSummary[];
  rows: RowCounts;
  queue: QueueCounts;
  databaseBytes: number;
  /** Media files the snapshot says exist (paths under the media folder). */
  media: string[];
}

export function summarizeSnapshot(file: string): SnapshotSummary {
  const snapshot = openReadOnly(file);
  try {
    return {
      migrations: appliedMigrations(snapshot),
      accounts: accountSummaries(snapshot),
      rows: rowCounts(snapshot),
      queue: queueCounts(snapshot),
      databaseBytes: databaseSize(snapshot).bytes,
      media: readyMediaPaths(snapshot),
    };
  } finally {
    snapshot.close();
  }
}

/** SQLite's own quick_check of a restored database ("ok" when sound) and its migrations. */
export function checkRestoredDatabase(file: string): { check: string; migrations: string[] } {
  const restored = openReadOnly(file);
  try {
    const rows = restored.sqlite.query<{ quick_check: string }, []>("PRAGMA quick_check").all();
    return { check: rows.length === 1 ? rows[0]!.quick_check : rows.map((r) => r.quick_check).join("; "), migrations: appliedMigrations(restored) };
  } finally {
    restored.close();
  }
}
