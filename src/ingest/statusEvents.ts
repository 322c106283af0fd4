// Operator events: `account.status` (a linked account connected, dropped, was logged out…)
// and `message.status` (WhatsApp's ticks for messages the user sent). Opt-in per webhook
// like the other events, queued in the outbox and signed like messages. Call inside the
// transaction of the change they report, so one never commits without the other.
import type { Database } from "bun:sqlite";
import type { AccountStatusChange, MessageStatusChange } from "../domain.ts";
import { enqueue } from "../store/outbox.ts";
import { allWebhookTargets } from "../store/webhooks.ts";
import { PRIORITY_LIVE } from "./ingest.ts";

function queue(sqlite: Database, event: "account.status" | "message.status", accountId: string, chatKey: string, data: object, now: number): number {
  let queued = 0;
  for (const w of allWebhookTargets(sqlite)) {
    if (!w.events.includes(event) || (w.accountIds !== null && !w.accountIds.includes(accountId))) continue;
    enqueue(sqlite, { webhookId: w.id, ordering: w.ordering, event, accountId, chatKey, messageRowid: null, data, priority: PRIORITY_LIVE }, now);
    queued++;
  }
  return queued;
}

/** One stream per account: its `seq` counts that account's status changes. */
export function queueAccountStatus(sqlite: Database, accountId: string, change: AccountStatusChange, now = Date.now()): number {
  const data = { account_id: accountId, status: change.status, reason: change.reason, code: change.code, phone: change.phone, at: new Date(now).toISOString() };
  return queue(sqlite, "account.status", accountId, `account:${accountId}`, data, now);
}

/** In the chat's stream, after the message it is about (per-chat order holds it behind it). */
export function queueMessageStatus(sqlite: Database, accountId: string, change: MessageStatusChange, now = Date.now()): number {
  const recipient = change.recipient && { phone: change.recipient.phone, wa_name: change.recipient.wa_name, ...(change.recipient.phone === null && change.recipient.lid ? { lid: change.recipient.lid } : {}) };
  const data = { account_id: accountId, chat_id: change.chatId, message: { id: change.messageId }, status: change.status, recipient, timestamp: String(change.at) };
  return queue(sqlite, "message.status", accountId, change.chatId, data, now);
}
