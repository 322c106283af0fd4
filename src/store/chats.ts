// Chats and their stored messages as an admin browses them (what a backfill would send).
// Chats are not a table of their own: they are the distinct chat ids of stored messages,
// named from the directory tables the same way payloads name them.
import type { Store } from "./db.ts";
import type { RawRow } from "./rows.ts";
import type { messages } from "./schema.ts";
import type { Message } from "../domain.ts";

export interface ChatRow {
  chat_id: string;
  message_count: number;
  last_message_at: number;
  first_message_at: number;
  /** Group subject, or the contact's saved name. */
  saved_title: string | null;
  /** The contact's own WhatsApp name (1:1 chats). */
  push_name: string | null;
}

/** Chats of an account in chat id order, after `afterChatId`. */
export function listChats(store: Store, accountId: string, limit: number, afterChatId?: string): ChatRow[] {
  return store.sqlite
    .query<ChatRow, (string | number)[]>(
      `SELECT m.chat_id, m.message_count, m.last_message_at, m.first_message_at,
         COALESCE(g.subject, c.saved_name) AS saved_title, c.push_name
       FROM (
         SELECT chat_id, COUNT(*) AS message_count, MAX(timestamp) AS last_message_at, MIN(timestamp) AS first_message_at
         FROM messages WHERE account_id = ?1 ${afterChatId !== undefined ? "AND chat_id > ?3" : ""}
         GROUP BY chat_id ORDER BY chat_id LIMIT ?2
       ) m
       LEFT JOIN wa_groups g ON g.account_id = ?1 AND g.jid = m.chat_id
       LEFT JOIN contacts c ON c.account_id = ?1 AND m.chat_id LIKE '%@c.us' AND c.phone = substr(m.chat_id, 1, length(m.chat_id) - 5)
       ORDER BY m.chat_id`,
    )
    .all(...(afterChatId !== undefined ? [accountId, limit, afterChatId] : [accountId, limit]));
}

/** Which of these chat ids have stored messages for the account. */
export function knownChats(store: Store, accountId: string, chatIds: string[]): Set<string> {
  const q = store.sqlite.query<{ n: number }, [string, string]>("SELECT 1 AS n FROM messages WHERE account_id = ? AND chat_id = ? LIMIT 1");
  return new Set(chatIds.filter((c) => q.get(accountId, c)));
}

/** Chats with stored messages, in chat id order (`older_per_chat` without `chat_ids`). */
export function chatIdsOf(store: Store, accountId: string): string[] {
  return store.sqlite
    .query<Pick<RawRow<typeof messages>, "chat_id">, [string]>("SELECT DISTINCT chat_id FROM messages WHERE account_id = ? ORDER BY chat_id")
    .all(accountId)
    .map((r) => r.chat_id);
}

export interface StoredMessageRow {
  rowid: number;
  timestamp: number;
  message: Message;
}

export interface MessageQuery {
  since?: number;
  until?: number;
  /** Position after which to continue, in the listing's order. */
  after?: { timestamp: number; rowid: number };
  order: "asc" | "desc";
  limit: number;
}

/** Stored messages of one chat by (timestamp, rowid): the order a backfill sends them in. */
export function chatMessages(store: Store, accountId: string, chatId: string, q: MessageQuery): StoredMessageRow[] {
  const where = ["account_id = ?", "chat_id = ?"];
  const args: (string | number)[] = [accountId, chatId];
  if (q.since !== undefined) (where.push("timestamp >= ?"), args.push(q.since));
  if (q.until !== undefined) (where.push("timestamp <= ?"), args.push(q.until));
  if (q.after) {
    where.push(`(timestamp, rowid) ${q.order === "asc" ? ">" : "<"} (?, ?)`);
    args.push(q.after.timestamp, q.after.rowid);
  }
  const dir = q.order === "asc" ? "ASC" : "DESC";
  args.push(q.limit);
  return store.sqlite
    .query<Pick<RawRow<typeof messages>, "rowid" | "timestamp" | "data">, (string | number)[]>(
      `SELECT rowid, timestamp, data FROM messages WHERE ${where.join(" AND ")} ORDER BY timestamp ${dir}, rowid ${dir} LIMIT ?`,
    )
    .all(...args)
    .map((r) => ({ rowid: r.rowid, timestamp: r.timestamp, message: JSON.parse(r.data) as Message }));
}
