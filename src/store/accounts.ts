// Linked WhatsApp accounts: identity, connection state, and deleting one with what it owns.
import { asc, eq, gt, sql } from "drizzle-orm";
import type { AccountState } from "../domain.ts";
import type { Db } from "./db.ts";
import { newId } from "./ids.ts";
import { accounts } from "./schema.ts";

export type AccountRow = typeof accounts.$inferSelect;

/**
 * Bumped by every write of an account here (the only place that writes them): a cached
 * accountContact is good while it has not moved.
 */
let accountWrites = 0;

export function insertAccount(db: Db, values: { name: string; email: string | null }, now = Date.now()): AccountRow {
  accountWrites++;
  return db
    .insert(accounts)
    .values({ id: newId("acc", now), name: values.name, email: values.email, state: "stopped", stateSince: now, createdAt: now, updatedAt: now })
    .returning()
    .get();
}

const prepared = new WeakMap<Db, { get(values: { id: string }): AccountRow | undefined }>();

/** Read for every message (names, own phone): a prepared query, not one built each time. */
export function getAccount(db: Db, id: string): AccountRow | null {
  let query = prepared.get(db);
  if (!query) {
    query = db.select().from(accounts).where(eq(accounts.id, sql.placeholder("id"))).prepare();
    prepared.set(db, query);
  }
  return query.get({ id }) ?? null;
}

export function listAccounts(db: Db, limit: number, after?: string): AccountRow[] {
  return db
    .select()
    .from(accounts)
    .where(after ? gt(accounts.id, after) : undefined)
    .orderBy(asc(accounts.id))
    .limit(limit)
    .all();
}

export function allAccounts(db: Db): AccountRow[] {
  return db.select().from(accounts).orderBy(asc(accounts.id)).all();
}

export type AccountPatch = Partial<Omit<AccountRow, "id" | "createdAt">>;

export function updateAccount(db: Db, id: string, patch: AccountPatch, now = Date.now()): AccountRow | null {
  accountWrites++;
  return db.update(accounts).set({ ...patch, updatedAt: now }).where(eq(accounts.id, id)).returning().get() ?? null;
}

/** A state change; `since` moves only when the state really changes. */
export function setAccountState(db: Db, id: string, state: AccountState, extra: AccountPatch = {}, now = Date.now()): AccountRow | null {
  const row = getAccount(db, id);
  if (!row) return null;
  const patch: AccountPatch = { ...extra, state };
  if (row.state !== state) patch.stateSince = now;
  return updateAccount(db, id, patch, now);
}

/**
 * Deletes an account with its credentials, keys, contacts, mappings and groups (foreign
 * keys cascade). With `purge` also everything it brought in: its stored messages and
 * media rows, and its whole queue (every delivery of its events, with their attempts).
 * The media files go after this commits (see mediaFilesOfAccount in retention.ts).
 */
export function deleteAccount(db: Db, id: string, purge: boolean): boolean {
  accountWrites++;
  const sqlite = db.$client;
  return sqlite
    .transaction(() => {
      if (purge) {
        sqlite.query("DELETE FROM delivery_attempts WHERE outbox_id IN (SELECT id FROM outbox WHERE account_id = ?)").run(id);
        sqlite.query("DELETE FROM outbox WHERE account_id = ?").run(id);
        sqlite.query("DELETE FROM messages WHERE account_id = ?").run(id);
      }
      return sqlite.query("DELETE FROM accounts WHERE id = ?").run(id).changes > 0;
    })
    .immediate();
}

type Contact = { phone: string | null; email: string | null };
const contacts = new WeakMap<Db["$client"], { writes: number; byId: Map<string, Contact> }>();

/**
 * The account's own phone and e-mail (payload `user_phone`, `user_email`), asked for by
 * every delivery: kept in memory until an account is written.
 */
export function accountContact(sqlite: Db["$client"], id: string): Contact {
  let cache = contacts.get(sqlite);
  if (!cache || cache.writes !== accountWrites) contacts.set(sqlite, (cache = { writes: accountWrites, byId: new Map() }));
  let contact = cache.byId.get(id);
  if (!contact) {
    contact = sqlite.query<Contact, [string]>("SELECT phone, email FROM accounts WHERE id = ?").get(id) ?? { phone: null, email: null };
    cache.byId.set(id, contact);
  }
  return contact;
}

/**
 * At start-up, before the API answers: accounts that were connected (or on their way) when
 * the daemon stopped are not connected now. They show `connecting` until their socket is
 * really open again, never the `open` of the last run. Same choice as resumeAll: not
 * stopped by an admin, credentials kept.
 */
export function markResuming(sqlite: Db["$client"], now = Date.now()): number {
  accountWrites++;
  return sqlite
    .query(
      `UPDATE accounts SET state = 'connecting', state_since = ?1, updated_at = ?1
       WHERE stopped = 0 AND state IN ('open', 'reconnecting', 'failed')
         AND EXISTS (SELECT 1 FROM wa_creds WHERE wa_creds.account_id = accounts.id)`,
    )
    .run(now).changes;
}

/** When the account's newest stored message was sent (ms), 0 without one; index messages_account_time. */
export function lastMessageAt(sqlite: Db["$client"], accountId: string): number {
  const row = sqlite.query<{ t: number | null }, [string]>("SELECT MAX(timestamp) AS t FROM messages WHERE account_id = ?").get(accountId);
  return (row?.t ?? 0) * 1000;
}

/** Accounts a start connects (the choice of resumeAll): not stopped, credentials kept, not logged out or taken over. */
export function countResumable(sqlite: Db["$client"]): number {
  return sqlite
    .query<{ n: number }, []>(
      `SELECT COUNT(*) AS n FROM accounts
       WHERE stopped = 0 AND state NOT IN ('logged_out', 'conflict')
         AND EXISTS (SELECT 1 FROM wa_creds WHERE wa_creds.account_id = accounts.id)`,
    )
    .get()!.n;
}
