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
 * keys cascade); its stored messages and their deliveries only when `purge` is set.
 */
export function deleteAccount(db: Db, id: string, purge: boolean): boolean {
  accountWrites++;
  const sqlite = db.$client;
  return sqlite
    .transaction(() => {
      if (purge) sqlite.query("DELETE FROM messages WHERE account_id = ?").run(id);
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
