// Stored WhatsApp messages. Insertion is idempotent on (account, chat, message id): the
// same message seen twice (reconnect catch-up, history overlap) is stored once.
//
// A live message is read back by the delivery worker moments after it was stored, once
// per webhook. Ingest hands it over in memory instead (rememberMessage, only after its
// commit, so a rowid in here is always a committed row; AUTOINCREMENT never reuses one).
// In a burst, reading and parsing it back was a tenth of a delivery's cost.
import type { Store } from "./db.ts";
import type { Message } from "../domain.ts";
import type { RawRow } from "./rows.ts";
import type { messages } from "./schema.ts";

export interface StoredMessage {
  rowid: number;
  message: Message;
}

/** Enough for a burst's backlog; older entries are read from the table as before. */
const RECENT_MAX = 5_000;
const recent = new WeakMap<Store, Map<number, { message: Message; uses: number }>>();

/** Returns the new row id, or null when the message was already stored. */
export function insertMessage(store: Store, m: Message, now = Date.now()): number | null {
  const row = store.sqlite
    .query<Pick<RawRow<typeof messages>, "rowid">, [string, string, string, string, string, number, number, string, number]>(
      `INSERT INTO messages (account_id, chat_id, message_id, direction, type, timestamp, history, data, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (account_id, chat_id, message_id) DO NOTHING
       RETURNING rowid`,
    )
    .get(m.accountId, m.chatId, m.id, m.direction, m.type, m.timestamp, m.history ? 1 : 0, JSON.stringify(m), now);
  return row?.rowid ?? null;
}

/**
 * The content of a message stored so far only as a `ciphertext` placeholder (WhatsApp
 * delivered it before the device could decrypt it, then again, decryptable, under the same
 * id): the placeholder becomes the message. Returns its row id, or null when there was no
 * placeholder. Found by id alone (index messages_ciphertext): the chat id may read
 * differently by now, a LID then and a phone now.
 */
export function replaceCiphertext(store: Store, m: Message): number | null {
  const row = store.sqlite
    .query<Pick<RawRow<typeof messages>, "rowid">, [string, string, number, string, string, string]>(
      `UPDATE messages SET type = ?, direction = ?, timestamp = ?, data = ?
       WHERE rowid = (SELECT rowid FROM messages WHERE account_id = ? AND message_id = ? AND type = 'ciphertext' LIMIT 1)
       RETURNING rowid`,
    )
    .get(m.type, m.direction, m.timestamp, JSON.stringify(m), m.accountId, m.id);
  if (!row) return null;
  recent.get(store)?.delete(row.rowid);
  return row.rowid;
}

/**
 * Keeps a committed message for its next `uses` reads (one per outbox row queued for it).
 * Call only once the row is committed.
 */
export function rememberMessage(store: Store, rowid: number, message: Message, uses: number): void {
  if (uses <= 0) return;
  let map = recent.get(store);
  if (!map) recent.set(store, (map = new Map()));
  map.set(rowid, { message, uses });
  // Oldest first (insertion order): a backlog longer than this is read from the table.
  if (map.size > RECENT_MAX) map.delete(map.keys().next().value!);
}

/** The stored message with this WhatsApp id in this chat (index messages_identity), or null. */
export function findMessage(store: Store, accountId: string, chatId: string, messageId: string): Message | null {
  const row = store.sqlite
    .query<Pick<RawRow<typeof messages>, "data">, [string, string, string]>("SELECT data FROM messages WHERE account_id = ? AND chat_id = ? AND message_id = ?")
    .get(accountId, chatId, messageId);
  return row ? (JSON.parse(row.data) as Message) : null;
}

/** The stored message; the object may be shared, so callers copy before changing it. */
export function getMessage(store: Store, rowid: number): Message | null {
  const map = recent.get(store);
  const hit = map?.get(rowid);
  if (hit) {
    if (--hit.uses <= 0) map!.delete(rowid);
    return hit.message;
  }
  return readMessage(store, rowid);
}

/** The stored message as the table holds it, leaving what ingest handed over in memory alone. */
export function readMessage(store: Store, rowid: number): Message | null {
  const row = store.sqlite.query<Pick<RawRow<typeof messages>, "data">, [number]>("SELECT data FROM messages WHERE rowid = ?").get(rowid);
  return row ? (JSON.parse(row.data) as Message) : null;
}

/** Deletes these messages (retention; their deliveries and media rows are gone first). */
export function deleteMessages(store: Store, rowids: number[]): number {
  return store.sqlite.query("DELETE FROM messages WHERE rowid IN (SELECT value FROM json_each(?))").run(JSON.stringify(rowids)).changes;
}

/** Every message of an account (a purge). */
export function deleteMessagesOfAccount(store: Store, accountId: string): void {
  store.sqlite.query("DELETE FROM messages WHERE account_id = ?").run(accountId);
}
