// Webhook endpoints and their signing secrets. The API layer decides what is shown;
// this module only reads and writes rows.
import { asc, eq, gt } from "drizzle-orm";
import type { Database } from "bun:sqlite";
import type { Ordering } from "../domain.ts";
import type { Db } from "./db.ts";
import { newId } from "./ids.ts";
import { webhooks } from "./schema.ts";

export type WebhookRow = typeof webhooks.$inferSelect;
export type WebhookInsert = Omit<typeof webhooks.$inferInsert, "id" | "secret" | "createdAt" | "updatedAt">;
export type WebhookPatch = Partial<WebhookInsert>;

/** How long the secret before a rotation keeps signing (Standard Webhooks practice). */
export const ROTATION_GRACE_MS = 24 * 60 * 60 * 1000;

export function newSecret(): string {
  return `whsec_${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64")}`;
}

export function insertWebhook(db: Db, values: WebhookInsert): WebhookRow {
  const now = Date.now();
  return db
    .insert(webhooks)
    .values({ ...values, id: newId("wh"), secret: newSecret(), createdAt: now, updatedAt: now })
    .returning()
    .get();
}

export function getWebhook(db: Db, id: string): WebhookRow | null {
  return db.select().from(webhooks).where(eq(webhooks.id, id)).get() ?? null;
}

export function listWebhooks(db: Db, limit: number, after?: string): WebhookRow[] {
  return db
    .select()
    .from(webhooks)
    .where(after ? gt(webhooks.id, after) : undefined)
    .orderBy(asc(webhooks.id))
    .limit(limit)
    .all();
}

export function allWebhooks(db: Db): WebhookRow[] {
  return db.select().from(webhooks).orderBy(asc(webhooks.id)).all();
}

export function updateWebhook(db: Db, id: string, patch: Partial<typeof webhooks.$inferInsert>): WebhookRow | null {
  return db.update(webhooks).set({ ...patch, updatedAt: Date.now() }).where(eq(webhooks.id, id)).returning().get() ?? null;
}

export function setWebhookEnabled(db: Db, id: string, enabled: boolean, reason: string | null = null): WebhookRow | null {
  const patch: WebhookPatch = enabled
    ? { enabled: true, disabledReason: null, disabledAt: null }
    : { enabled: false, disabledReason: reason, disabledAt: Date.now() };
  return updateWebhook(db, id, patch);
}

export function rotateWebhookSecret(db: Db, id: string, now = Date.now()): WebhookRow | null {
  return db.transaction(() => {
    const row = getWebhook(db, id);
    if (!row) return null;
    return updateWebhook(db, id, {
      secret: newSecret(),
      previousSecret: row.secret,
      previousSecretUntil: now + ROTATION_GRACE_MS,
    });
  });
}

export function deleteWebhook(db: Db, id: string): boolean {
  return db.delete(webhooks).where(eq(webhooks.id, id)).returning({ id: webhooks.id }).all().length > 0;
}

/** Does a webhook with these `events` and `account_ids` take this account's messages (either trigger)? */
export function takesMessagesOf(events: string[], accountIds: string[] | null, accountId: string): boolean {
  return (events.includes("message.received") || events.includes("message.sent")) && (!accountIds || accountIds.includes(accountId));
}

/** What queueing needs of a webhook. */
export interface WebhookTarget {
  id: string;
  events: string[];
  ordering: Ordering;
}

interface TargetRow {
  id: string;
  events: string;
  account_ids: string | null;
  ordering: Ordering;
}

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
export function historyWebhooks(sqlite: Database, accountId: string): WebhookTarget[] {
  return sqlite
    .query<TargetRow, []>("SELECT id, events, account_ids, ordering FROM webhooks WHERE include_history = 1 ORDER BY id")
    .all()
    .map(target)
    .filter((w) => takesMessagesOf(w.events, w.accountIds, accountId));
}

/** Every webhook, for fanning a live event out (ingest/ingest.ts). */
export function allWebhookTargets(sqlite: Database): AccountTarget[] {
  return sqlite.query<TargetRow, []>("SELECT id, events, account_ids, ordering FROM webhooks ORDER BY id").all().map(target);
}

/** The webhooks among `ids` that still exist. */
export function webhookTargets(sqlite: Database, ids: string[]): WebhookTarget[] {
  if (!ids.length) return [];
  return sqlite
    .query<TargetRow, string[]>(`SELECT id, events, account_ids, ordering FROM webhooks WHERE id IN (${ids.map(() => "?").join(", ")}) ORDER BY id`)
    .all(...ids)
    .map(target);
}
