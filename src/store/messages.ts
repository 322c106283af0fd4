// Stored WhatsApp messages. Insertion is idempotent on (account, chat, message id): the
// same message seen twice (reconnect catch-up, history overlap) is stored once.
//
// A live message is read back by the delivery worker moments after it was stored, once
// per webhook. Ingest hands it over in memory instead (rememberMessage, only after its
// commit, so a rowid in here is always a committed row; AUTOINCREMENT never reuses one).
// In a burst, reading and parsing it back was a tenth of a delivery's cost.
import type { Database } from "bun:sqlite";
import type { Message } from "../domain.ts";

export interface StoredMessage {
  rowid: number;
  message: Message;
}

/** Enough for a burst's backlog; older entries are read from the table as before. */
const RECENT_MAX = 5_000;
const recent = new WeakMap<Database, Map<number, { message: Message; uses: number }>>();

/** Returns the new row id, or null when the message was already stored. */
export function insertMessage(sqlite: Database, m: Message, now = Date.now()): number | null {
  const row = sqlite
    .query<{ rowid: number }, [string, string, string, string, string, number, number, string, number]>(
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
export function replaceCiphertext(sqlite: Database, m: Message): number | null {
  const row = sqlite
    .query<{ rowid: number }, [string, string, number, string, string, string]>(
      `UPDATE messages SET type = ?, direction = ?, timestamp = ?, data = ?
       WHERE rowid = (SELECT rowid FROM messages WHERE account_id = ? AND message_id = ? AND type = 'ciphertext' LIMIT 1)
       RETURNING rowid`,
    )
    .get(m.type, m.direction, m.timestamp, JSON.stringify(m), m.accountId, m.id);
  if (!row) return null;
  recent.get(sqlite)?.delete(row.rowid);
  return row.rowid;
}

/**
 * Keeps a committed message for its next `uses` reads (one per outbox row queued for it).
 * Call only once the row is committed.
 */
export function rememberMessage(sqlite: Database, rowid: number, message: Message, uses: number): void {
  if (uses <= 0) return;
  let map = recent.get(sqlite);
  if (!map) recent.set(sqlite, (map = new Map()));
  map.set(rowid, { message, uses });
  // Oldest first (insertion order): a backlog longer than this is read from the table.
  if (map.size > RECENT_MAX) map.delete(map.keys().next().value!);
}

/** The stored message with this WhatsApp id in this chat (index messages_identity), or null. */
export function findMessage(sqlite: Database, accountId: string, chatId: string, messageId: string): Message | null {
  const row = sqlite
    .query<{ data: string }, [string, string, string]>("SELECT data FROM messages WHERE account_id = ? AND chat_id = ? AND message_id = ?")
    .get(accountId, chatId, messageId);
  return row ? (JSON.parse(row.data) as Message) : null;
}

/** The stored message; the object may be shared, so callers copy before changing it. */
export function getMessage(sqlite: Database, rowid: number): Message | null {
  const map = recent.get(sqlite);
  const hit = map?.get(rowid);
  if (hit) {
    if (--hit.uses <= 0) map!.delete(rowid);
    return hit.message;
  }
  const row = sqlite.query<{ data: string }, [number]>("SELECT data FROM messages WHERE rowid = ?").get(rowid);
  return row ? (JSON.parse(row.data) as Message) : null;
}
