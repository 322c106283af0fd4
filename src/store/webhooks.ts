// Webhook endpoints and their signing secrets. The API layer decides what is shown;
// this module only reads and writes rows.
import { asc, eq, gt } from "drizzle-orm";
import type { Ordering } from "../domain.ts";
import type { Store } from "./db.ts";
import { newId } from "./ids.ts";
import { recomputeReady } from "./outbox.ts";
import type { RawRow } from "./rows.ts";
import { webhooks } from "./schema.ts";

export type WebhookRow = typeof webhooks.$inferSelect;
export type WebhookInsert = Omit<typeof webhooks.$inferInsert, "id" | "secret" | "createdAt" | "updatedAt">;
export type WebhookPatch = Partial<WebhookInsert>;

/** How long the secret before a rotation keeps signing (Standard Webhooks practice). */
export const ROTATION_GRACE_MS = 24 * 60 * 60 * 1000;

/** A fresh signing secret, in the Standard Webhooks form receivers' libraries read: `whsec_` + base64 of 32 random bytes. */
export function newSecret(): string {
  return `whsec_${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64")}`;
}

export function insertWebhook(store: Store, values: WebhookInsert): WebhookRow {
  const now = Date.now();
  return store.db
    .insert(webhooks)
    .values({ ...values, id: newId("wh"), secret: newSecret(), createdAt: now, updatedAt: now })
    .returning()
    .get();
}

export function getWebhook(store: Store, id: string): WebhookRow | null {
  return store.db.select().from(webhooks).where(eq(webhooks.id, id)).get() ?? null;
}

export function listWebhooks(store: Store, limit: number, after?: string): WebhookRow[] {
  return store.db
    .select()
    .from(webhooks)
    .where(after ? gt(webhooks.id, after) : undefined)
    .orderBy(asc(webhooks.id))
    .limit(limit)
    .all();
}

export function allWebhooks(store: Store): WebhookRow[] {
  return store.db.select().from(webhooks).orderBy(asc(webhooks.id)).all();
}

export function updateWebhook(store: Store, id: string, patch: Partial<typeof webhooks.$inferInsert>): WebhookRow | null {
  return store.db.update(webhooks).set({ ...patch, updatedAt: Date.now() }).where(eq(webhooks.id, id)).returning().get() ?? null;
}

/**
 * An admin's change. When it changes the ordering, which rows are claimable (the heads of
 * the per-chat queues) is recomputed in the same transaction.
 */
export function changeWebhook(store: Store, id: string, patch: WebhookPatch): WebhookRow | null {
  return store.sqlite.transaction(() => {
    const before = getWebhook(store, id);
    const updated = before && updateWebhook(store, id, patch);
    if (updated && updated.ordering !== before.ordering) recomputeReady(store.sqlite, id, updated.ordering);
    return updated;
  })();
}

export function setWebhookEnabled(store: Store, id: string, enabled: boolean, reason: string | null = null): WebhookRow | null {
  const patch: WebhookPatch = enabled
    ? { enabled: true, disabledReason: null, disabledAt: null }
    : { enabled: false, disabledReason: reason, disabledAt: Date.now() };
  return updateWebhook(store, id, patch);
}

export function rotateWebhookSecret(store: Store, id: string, now = Date.now()): WebhookRow | null {
  return store.db.transaction(() => {
    const row = getWebhook(store, id);
    if (!row) return null;
    return updateWebhook(store, id, {
      secret: newSecret(),
      previousSecret: row.secret,
      previousSecretUntil: now + ROTATION_GRACE_MS,
    });
  });
}

export function deleteWebhook(store: Store, id: string): boolean {
  return store.db.delete(webhooks).where(eq(webhooks.id, id)).returning({ id: webhooks.id }).all().length > 0;
}

/** What a webhook subscribes to: event types, and accounts (null: every account). */
type Subscription = { events: string[]; accountIds: string[] | null };

/** Does the webhook take `event` of this account? */
export function subscribes(w: Subscription, event: string, accountId: string): boolean {
  return w.events.includes(event) && (w.accountIds === null || w.accountIds.includes(accountId));
}

/** Does the webhook take this account's messages (either trigger)? */
export function takesMessages(w: Subscription, accountId: string): boolean {
  return subscribes(w, "message.received", accountId) || subscribes(w, "message.sent", accountId);
}

/** What queueing needs of a webhook. */
export interface WebhookTarget {
  id: string;
  events: string[];
  ordering: Ordering;
}

type TargetRow = Pick<RawRow<typeof webhooks>, "id" | "events" | "account_ids" | "ordering">;

/** A webhook as queueing needs it, with the accounts it takes (null: every account). */
export interface AccountTarget extends WebhookTarget {
  accountIds: string[] | null;
}

const target = (w: TargetRow): AccountTarget => ({
  id: w.id,
  events: JSON.parse(w.events) as string[],
  ordering: w.ordering,
  accountIds: w.account_ids ? (JSON.parse(w.account_ids) as string[]) : null,
});

/** The webhooks that asked for this account's history (`include_history`). */
export function historyWebhooks(store: Store, accountId: string): WebhookTarget[] {
  return store.sqlite
    .query<TargetRow, []>("SELECT id, events, account_ids, ordering FROM webhooks WHERE include_history = 1 ORDER BY id")
    .all()
    .map(target)
    .filter((w) => takesMessages(w, accountId));
}

/** Every webhook, for fanning a live event out (ingest/ingest.ts). */
export function allWebhookTargets(store: Store): AccountTarget[] {
  return store.sqlite.query<TargetRow, []>("SELECT id, events, account_ids, ordering FROM webhooks ORDER BY id").all().map(target);
}

/** The webhooks among `ids` that still exist. */
export function webhookTargets(store: Store, ids: string[]): WebhookTarget[] {
  if (!ids.length) return [];
  return store.sqlite
    .query<TargetRow, string[]>(`SELECT id, events, account_ids, ordering FROM webhooks WHERE id IN (${ids.map(() => "?").join(", ")}) ORDER BY id`)
    .all(...ids)
    .map(target);
}
