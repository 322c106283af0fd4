// Linked WhatsApp accounts: identity, connection state, and deleting one with what it owns.
import { asc, eq, gt, sql } from "drizzle-orm";
import type { AccountState } from "../domain.ts";
import type { Store } from "./db.ts";
import { newId } from "./ids.ts";
import { deleteMessagesOfAccount } from "./messages.ts";
import { deleteRowsOfAccount } from "./outbox.ts";
import { accounts } from "./schema.ts";

export type AccountRow = typeof accounts.$inferSelect;

/**
 * Bumped by every write of an account here (the only place that writes them): a cached
 * accountContact is good while it has not moved.
 */
let accountWrites = 0;

export function insertAccount(store: Store, values: { name: string; email: string | null }, now = Date.now()): AccountRow {
  accountWrites++;
  return store.db
    .insert(accounts)
    .values({ id: newId("acc", now), name: values.name, email: values.email, state: "stopped", stateSince: now, createdAt: now, updatedAt: now })
    .returning()
    .get();
}

const prepared = new WeakMap<Store, { get(values: { id: string }): AccountRow | undefined }>();

/** Read for every message (names, own phone): a prepared query, not one built each time. */
export function getAccount(store: Store, id: string): AccountRow | null {
  let query = prepared.get(store);
  if (!query) {
    query = store.db.select().from(accounts).where(eq(accounts.id, sql.placeholder("id"))).prepare();
    prepared.set(store, query);
  }
  return query.get({ id }) ?? null;
}

export function listAccounts(store: Store, limit: number, after?: string): AccountRow[] {
  return store.db
    .select()
    .from(accounts)
    .where(after ? gt(accounts.id, after) : undefined)
    .orderBy(asc(accounts.id))
    .limit(limit)
    .all();
}

export function allAccounts(store: Store): AccountRow[] {
  return store.db.select().from(accounts).orderBy(asc(accounts.id)).all();
}

export type AccountPatch = Partial<Omit<AccountRow, "id" | "createdAt">>;

export function updateAccount(store: Store, id: string, patch: AccountPatch, now = Date.now()): AccountRow | null {
  accountWrites++;
  return store.db.update(accounts).set({ ...patch, updatedAt: now }).where(eq(accounts.id, id)).returning().get() ?? null;
}

/**
 * A state change; `since` moves only when the state really changes. `alongside` runs in the
 * same transaction (the `account.status` event the change means): one never commits
 * without the other.
 */
export function setAccountState(store: Store, id: string, state: AccountState, extra: AccountPatch = {}, alongside?: () => void, now = Date.now()): AccountRow | null {
  const write = () => {
    const row = getAccount(store, id);
    const patch: AccountPatch = { ...extra, state };
    if (row && row.state !== state) patch.stateSince = now;
    const updated = row ? updateAccount(store, id, patch, now) : null;
    alongside?.();
    return updated;
  };
  return alongside ? store.sqlite.transaction(write)() : write();
}

/**
 * Deletes an account with its credentials, keys, contacts, mappings and groups (foreign
 * keys cascade). With `purge` also everything it brought in: its stored messages and
 * media rows, and its whole queue (every delivery of its events, with their attempts).
 * The media files go after this commits (see mediaFilesOfAccount in retention.ts).
 */
export function deleteAccount(store: Store, id: string, purge: boolean): boolean {
  accountWrites++;
  const { sqlite } = store;
  return sqlite
    .transaction(() => {
      if (purge) {
        deleteRowsOfAccount(sqlite, id);
        deleteMessagesOfAccount(store, id);
      }
      return sqlite.query("DELETE FROM accounts WHERE id = ?").run(id).changes > 0;
    })
    .immediate();
}

type Contact = { phone: string | null; email: string | null };
const contacts = new WeakMap<Store, { writes: number; byId: Map<string, Contact> }>();

/**
 * The account's own phone and e-mail (payload `user_phone`, `user_email`), asked for by
 * every delivery: kept in memory until an account is written.
 */
export function accountContact(store: Store, id: string): Contact {
  let cache = contacts.get(store);
  if (!cache || cache.writes !== accountWrites) contacts.set(store, (cache = { writes: accountWrites, byId: new Map() }));
  let contact = cache.byId.get(id);
  if (!contact) {
    contact = store.sqlite.query<Contact, [string]>("SELECT phone, email FROM accounts WHERE id = ?").get(id) ?? { phone: null, email: null };
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
export function markResuming(store: Store, now = Date.now()): number {
  accountWrites++;
  return store.sqlite
    .query(
      `UPDATE accounts SET state = 'connecting', state_since = ?1, updated_at = ?1
       WHERE stopped = 0 AND state IN ('open', 'reconnecting', 'failed')
         AND EXISTS (SELECT 1 FROM wa_creds WHERE wa_creds.account_id = accounts.id)`,
    )
    .run(now).changes;
}

/** When the account's newest stored message was sent (ms), 0 without one; index messages_account_time. */
export function lastMessageAt(store: Store, accountId: string): number {
  const row = store.sqlite.query<{ t: number | null }, [string]>("SELECT MAX(timestamp) AS t FROM messages WHERE account_id = ?").get(accountId);
  return (row?.t ?? 0) * 1000;
}

/** Accounts a start connects (the choice of resumeAll): not stopped, credentials kept, not logged out or taken over. */
export function countResumable(store: Store): number {
  return store.sqlite
    .query<{ n: number }, []>(
      `SELECT COUNT(*) AS n FROM accounts
       WHERE stopped = 0 AND state NOT IN ('logged_out', 'conflict')
         AND EXISTS (SELECT 1 FROM wa_creds WHERE wa_creds.account_id = accounts.id)`,
    )
    .get()!.n;
}
