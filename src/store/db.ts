// Opens the SQLite file with the pragmas the delivery engine relies on (WAL so readers
// never block the writer, a busy timeout instead of SQLITE_BUSY errors, foreign keys on)
// and applies every embedded migration not yet applied, each in its own transaction.
import { Database } from "bun:sqlite";
import { drizzle, type BunSQLiteDatabase } from "drizzle-orm/bun-sqlite";
import * as schema from "./schema.ts";
import { embeddedMigrations, type Migration } from "./migrations.ts";

export type Db = BunSQLiteDatabase<typeof schema> & { $client: Database };

/**
 * The open database as stages hold it: they pass it to store functions and never read its
 * fields (test/architecture.test.ts), so another engine would change only what is inside.
 */
export interface Store {
  db: Db;
  sqlite: Database;
  close(): void;
}

export interface StoreOptions {
  /**
   * `normal` (default): in WAL mode a commit is in the operating system's hands before it
   * returns, so a crash or kill -9 of this process loses nothing committed; only a power
   * cut can take the last commits with it. `full` syncs the disk on every commit (about
   * 1 ms here), which caps a single writer near a thousand commits a second.
   */
  synchronous?: "normal" | "full";
  /**
   * `external`: a replication tool (Litestream) owns WAL checkpoints. The connection never
   * checkpoints, not even at close, so the tool sees every frame before it reaches the
   * database file; without such a tool the WAL only grows.
   */
  walCheckpoint?: "auto" | "external";
}

/**
 * Statements `Database.query` keeps compiled (least recently used go first). Bun's default
 * is 20; past that, a call compiles its statement again (2.5 µs instead of 0.05 for the
 * smallest, measured), and live traffic alone cycles through about 30 (ingest, Signal
 * keys, directory, worker, jobs). Every SQL string here is fixed text or one of a few
 * variants: a few hundred at most.
 */
const QUERY_CACHE_SIZE = 500;

export function openStore(file: string, migrations: Migration[] = embeddedMigrations(), opts: StoreOptions = {}): Store {
  Database.MAX_QUERY_CACHE_SIZE = Math.max(Database.MAX_QUERY_CACHE_SIZE, QUERY_CACHE_SIZE);
  const sqlite = new Database(file, { create: true, strict: true });
  sqlite.exec("PRAGMA journal_mode = WAL");
  sqlite.exec("PRAGMA busy_timeout = 5000");
  sqlite.exec("PRAGMA foreign_keys = ON");
  sqlite.exec(`PRAGMA synchronous = ${opts.synchronous === "full" ? "FULL" : "NORMAL"}`);
  // 16 MB of page cache instead of 2: the outbox and message indexes stay in memory.
  sqlite.exec("PRAGMA cache_size = -16000");
  // Savepoints (one per message in a group commit) and multi-row statements inside a
  // transaction copy every page they touch into a sub-journal first; with the default
  // temp_store that is a temporary FILE, one write() per page. In memory, storing a live
  // message took half the time (119 → 55 µs in isolation). Only pages a statement or
  // savepoint touches live there, until it ends.
  sqlite.exec("PRAGMA temp_store = MEMORY");
  const external = opts.walCheckpoint === "external";
  if (external) sqlite.exec("PRAGMA wal_autocheckpoint = 0");
  const newer = unknownMigrations(sqlite, migrations);
  if (newer.length) {
    sqlite.close();
    throw new Error(`the database at ${file} was migrated by a newer wahook (${newer.join(", ")}); run that version or restore a backup`);
  }
  migrate(sqlite, migrations);
  const db = drizzle(sqlite, { schema }) as Db;
  return {
    db,
    sqlite,
    close: () => {
      try {
        if (!external) sqlite.exec("PRAGMA wal_checkpoint(TRUNCATE)");
      } finally {
        sqlite.close();
      }
    },
  };
}

/**
 * A database file as it is, read-only: no pragmas, no migrations (a backup's snapshot, a
 * restored copy being checked).
 */
export function openReadOnly(file: string): Store {
  const sqlite = new Database(file, { readonly: true });
  return { db: drizzle(sqlite, { schema }) as Db, sqlite, close: () => sqlite.close() };
}

/** Throws when the database cannot be read (/health asks this). */
export function checkReadable(store: Store): void {
  store.sqlite.query("SELECT 1").get();
}

export function migrate(sqlite: Database, migrations: Migration[]): string[] {
  sqlite.exec(
    "CREATE TABLE IF NOT EXISTS wahook_migrations (tag TEXT PRIMARY KEY, hash TEXT NOT NULL, applied_at INTEGER NOT NULL)",
  );
  const applied = new Set(sqlite.query<{ tag: string }, []>("SELECT tag FROM wahook_migrations").all().map((r) => r.tag));
  const ran: string[] = [];
  for (const m of migrations) {
    if (applied.has(m.tag)) continue;
    sqlite.transaction(() => {
      for (const statement of m.statements) sqlite.exec(statement);
      sqlite.query("INSERT INTO wahook_migrations (tag, hash, applied_at) VALUES (?, ?, ?)").run(m.tag, m.hash, Date.now());
    })();
    ran.push(m.tag);
  }
  return ran;
}

/** A database made by a newer binary would be misread by this one: refuse it. */
function unknownMigrations(sqlite: Database, migrations: Migration[]): string[] {
  const exists = sqlite.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'wahook_migrations'").get();
  if (!exists) return [];
  const known = new Set(migrations.map((m) => m.tag));
  return sqlite
    .query<{ tag: string }, []>("SELECT tag FROM wahook_migrations ORDER BY tag")
    .all()
    .map((r) => r.tag)
    .filter((t) => !known.has(t));
}
