// History sync notifications between their receipt and their chunk being stored (see
// schema.ts). Recorded in the commit that releases the receipt; removed in the one that
// stores the chunk; what is left at a login is fetched again (wa/historyRecovery.ts).
import type { Store } from "./db.ts";
import type { historyNotifications } from "./schema.ts";

export type HistoryNotificationRow = typeof historyNotifications.$inferSelect;

export interface NotificationRecord {
  accountId: string;
  messageId: string;
  syncType: number;
  chunkOrder: number | null;
  requestId: string | null;
  /** The notification, proto-encoded, base64. */
  notification: string;
}

const COLUMNS = `account_id AS accountId, message_id AS messageId, sync_type AS syncType, chunk_order AS chunkOrder, request_id AS requestId,
  notification, state, attempts, last_error AS lastError, created_at AS createdAt`;

/** The same notification seen again (WhatsApp resending an unconfirmed one) changes nothing. */
export function recordHistoryNotification(store: Store, n: NotificationRecord, now: number): void {
  store.sqlite
    .query(
      `INSERT INTO history_notifications (account_id, message_id, sync_type, chunk_order, request_id, notification, state, attempts, created_at)
       VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?) ON CONFLICT DO NOTHING`,
    )
    .run(n.accountId, n.messageId, n.syncType, n.chunkOrder, n.requestId, n.notification, now);
}

/**
 * The pending notification a stored chunk came from: Baileys emits a chunk with the sync
 * type, chunk order and request id of its notification, one notification at a time.
 */
export function matchHistoryNotification(store: Store, accountId: string, syncType: number, chunkOrder: number | null, requestId: string | null): string | null {
  const row = store.sqlite
    .query<{ messageId: string }, [string, number, number | null, string | null]>(
      `SELECT message_id AS messageId FROM history_notifications
       WHERE account_id = ? AND state = 'pending' AND sync_type = ? AND chunk_order IS ? AND request_id IS ?
       ORDER BY created_at LIMIT 1`,
    )
    .get(accountId, syncType, chunkOrder, requestId);
  return row?.messageId ?? null;
}

/** Its chunk is stored (call in the same transaction). */
export function finishHistoryNotification(store: Store, accountId: string, messageId: string): void {
  store.sqlite.query("DELETE FROM history_notifications WHERE account_id = ? AND message_id = ?").run(accountId, messageId);
}

export function pendingHistoryNotifications(store: Store, accountId: string): HistoryNotificationRow[] {
  return store.sqlite
    .query<HistoryNotificationRow, [string]>(`SELECT ${COLUMNS} FROM history_notifications WHERE account_id = ? AND state = 'pending' ORDER BY created_at`)
    .all(accountId);
}

/** A fetch that failed; `giveUp` when the link is gone for good (the row stays, failed, to be seen). */
export function failHistoryNotification(store: Store, accountId: string, messageId: string, error: string, giveUp: boolean): void {
  store.sqlite
    .query(`UPDATE history_notifications SET attempts = attempts + 1, last_error = ?, state = ? WHERE account_id = ? AND message_id = ?`)
    .run(error, giveUp ? "failed" : "pending", accountId, messageId);
}
