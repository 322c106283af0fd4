// How big the store is and what fills it: rows per table, grouped into the families an
// admin thinks in, and the database file's size. Read by GET /v1/stats, /metrics and the
// manifest of every backup (on the snapshot, so the counts are the archive's own).
import { statSync } from "node:fs";
import type { Store } from "./db.ts";

/** Which family each table belongs to; a table not listed here counts under `other`. */
const FAMILIES: Record<string, string> = {
  messages: "messages",
  media: "messages",
  history_notifications: "messages",
  outbox: "queue",
  delivery_attempts: "queue",
  chat_seq: "queue",
  accounts: "whatsapp",
  wa_creds: "whatsapp",
  wa_keys: "whatsapp",
  lid_mappings: "whatsapp",
  contacts: "whatsapp",
  wa_groups: "whatsapp",
  backfills: "backfills",
  backfill_older: "backfills",
  webhooks: "settings",
  api_keys: "settings",
  kv: "settings",
};

export type RowCounts = Record<string, Record<string, number>>;

/** Rows of every table, by family: { messages: { messages: 120, media: 3, … }, queue: {…}, … }. */
export function rowCounts(store: Store): RowCounts {
  const tables = store.sqlite
    .query<{ name: string }, []>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name != 'wahook_migrations' ORDER BY name")
    .all()
    .map((t) => t.name);
  const out: RowCounts = {};
  for (const table of tables) {
    const family = FAMILIES[table] ?? "other";
    // Table names come from sqlite_master, quoted: never from a caller.
    const { n } = store.sqlite.query<{ n: number }, []>(`SELECT COUNT(*) AS n FROM "${table.replace(/"/g, '""')}"`).get()!;
    (out[family] ??= {})[table] = n;
  }
  return out;
}

export interface QueueCounts {
  pending: number;
  in_flight: number;
  delivered: number;
  failed: number;
}

export function queueCounts(store: Store): QueueCounts {
  const out: QueueCounts = { pending: 0, in_flight: 0, delivered: 0, failed: 0 };
  for (const r of store.sqlite.query<{ status: keyof QueueCounts; n: number }, []>("SELECT status, COUNT(*) AS n FROM outbox GROUP BY status").all()) out[r.status] = r.n;
  return out;
}

export interface DatabaseSize {
  /** The database file's pages (page_count × page_size). */
  bytes: number;
  /** Pages inside the file that are free (VACUUM would give them back). */
  free_bytes: number;
  /** The write-ahead log beside it: commits not yet checkpointed into the file. */
  wal_bytes: number;
}

export function databaseSize(store: Store): DatabaseSize {
  const pageSize = store.sqlite.query<{ page_size: number }, []>("PRAGMA page_size").get()!.page_size;
  const pages = store.sqlite.query<{ page_count: number }, []>("PRAGMA page_count").get()!.page_count;
  const free = store.sqlite.query<{ freelist_count: number }, []>("PRAGMA freelist_count").get()!.freelist_count;
  const wal = statSync(`${store.sqlite.filename}-wal`, { throwIfNoEntry: false })?.size ?? 0;
  return { bytes: pages * pageSize, free_bytes: free * pageSize, wal_bytes: wal };
}

/** The migrations applied, oldest first (tags). */
export function appliedMigrations(store: Store): string[] {
  const exists = store.sqlite.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'wahook_migrations'").get();
  if (!exists) return [];
  return store.sqlite.query<{ tag: string }, []>("SELECT tag FROM wahook_migrations ORDER BY tag").all().map((r) => r.tag);
}

export interface AccountSummary {
  id: string;
  name: string;
  phone: string | null;
  state: string;
  paired: boolean;
}

/** Accounts with whether their WhatsApp credentials are stored (a restore reconnects those without pairing). */
export function accountSummaries(store: Store): AccountSummary[] {
  return store.sqlite
    .query<{ id: string; name: string; phone: string | null; state: string; paired: number }, []>(
      "SELECT a.id, a.name, a.phone, a.state, EXISTS (SELECT 1 FROM wa_creds c WHERE c.account_id = a.id) AS paired FROM accounts a ORDER BY a.id",
    )
    .all()
    .map((a) => ({ ...a, paired: a.paired === 1 }));
}

/** Media files the store says exist (status ready), as paths relative to the media folder. */
export function readyMediaPaths(store: Store): string[] {
  return store.sqlite
    .query<{ path: string }, []>("SELECT path FROM media WHERE status = 'ready' AND path IS NOT NULL ORDER BY path")
    .all()
    .map((r) => r.path);
}
