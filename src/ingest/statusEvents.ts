// Operator events: `account.status` (a linked account connected, dropped, was logged out…)
// and `message.status` (WhatsApp's ticks for messages the user sent). Opt-in per webhook
// like the other events, queued in the outbox and signed like messages. Call inside the
// transaction of the change they report, so one never commits without the other.
import type { AccountStatusChange, MessageStatusChange } from "../domain.ts";
import type { Store } from "../store/db.ts";
import { queueAccountEvent } from "../store/intake.ts";
import { PRIORITY_LIVE } from "../store/outbox.ts";

/** One stream per account: its `seq` counts that account's status changes. */
export function queueAccountStatus(store: Store, accountId: string, change: AccountStatusChange, now = Date.now()): number {
  const data = { account_id: accountId, status: change.status, reason: change.reason, code: change.code, phone: change.phone, at: new Date(now).toISOString() };
  return queueAccountEvent(store, { event: "account.status", accountId, chatKey: `account:${accountId}`, data, priority: PRIORITY_LIVE }, now);
}

/** In the chat's stream, after the message it is about (per-chat order holds it behind it). */
export function queueMessageStatus(store: Store, accountId: string, change: MessageStatusChange, now = Date.now()): number {
  const recipient = change.recipient && { phone: change.recipient.phone, wa_name: change.recipient.wa_name, ...(change.recipient.phone === null && change.recipient.lid ? { lid: change.recipient.lid } : {}) };
  const data = { account_id: accountId, chat_id: change.chatId, message: { id: change.messageId }, status: change.status, recipient, timestamp: String(change.at) };
  return queueAccountEvent(store, { event: "message.status", accountId, chatKey: change.chatId, data, priority: PRIORITY_LIVE }, now);
}
