// Stored WhatsApp messages. Insertion is idempotent on (account, chat, message id): the
// same message seen twice (reconnect catch-up, history overlap) is stored once.
import type { Database } from "bun:sqlite";
import type { Message } from "../domain.ts";

export interface StoredMessage {
  rowid: number;
  message: Message;
}

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

export function getMessage(sqlite: Database, rowid: number): Message | null {
  const row = sqlite.query<{ data: string }, [number]>("SELECT data FROM messages WHERE rowid = ?").get(rowid);
  return row ? (JSON.parse(row.data) as Message) : null;
}
