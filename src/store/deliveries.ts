// The delivery log as the API reads it, and replays. Replays put the same outbox rows
// back in the queue, so a receiver sees the same `webhook-id` again and can tell.
import type { Store } from "./db.ts";
import type { DeliveryStatus, Ordering } from "../domain.ts";
import { recomputeReady, requeueFinished, type OutboxRow } from "./outbox.ts";
import type { RawRow } from "./rows.ts";
import type { deliveryAttempts } from "./schema.ts";

export interface DeliveryFilter {
  status?: DeliveryStatus;
  chatKey?: string;
  /** created_at bounds, ms, inclusive. */
  since?: number;
  until?: number;
  /** Newest first: rows strictly older than this id. */
  before?: string;
  limit: number;
}

export type AttemptRow = Omit<RawRow<typeof deliveryAttempts>, "outbox_id" | "webhook_id">;

export type DeliveryRow = Omit<OutboxRow, "data">;

const COLUMNS = `id, webhook_id, message_rowid, event, account_id, chat_key, seq, priority, status, ready, attempts,
  available_at, lease_until, last_attempt_at, last_status_code, last_error, delivered_at, created_at, backfill_id`;

/** Newest first (ids are time-ordered). Asks for exactly `limit` rows. */
export function listDeliveries(store: Store, webhookId: string, f: DeliveryFilter): DeliveryRow[] {
  const where = ["webhook_id = ?"];
  const args: (string | number)[] = [webhookId];
  if (f.status) (where.push("status = ?"), args.push(f.status));
  if (f.chatKey) (where.push("chat_key = ?"), args.push(f.chatKey));
  if (f.since !== undefined) (where.push("created_at >= ?"), args.push(f.since));
  if (f.until !== undefined) (where.push("created_at <= ?"), args.push(f.until));
  if (f.before) (where.push("id < ?"), args.push(f.before));
  args.push(f.limit);
  return store.sqlite.query<DeliveryRow, (string | number)[]>(`SELECT ${COLUMNS} FROM outbox WHERE ${where.join(" AND ")} ORDER BY id DESC LIMIT ?`).all(...args);
}

export function getDelivery(store: Store, webhookId: string, id: string): { row: DeliveryRow; attempts: AttemptRow[] } | null {
  const row = store.sqlite.query<DeliveryRow, [string, string]>(`SELECT ${COLUMNS} FROM outbox WHERE id = ? AND webhook_id = ?`).get(id, webhookId);
  if (!row) return null;
  const attempts = store.sqlite
    .query<AttemptRow, [string]>(
      `SELECT id, attempt, started_at, duration_ms, status_code, error_class, error, response_excerpt, outcome
       FROM delivery_attempts WHERE outbox_id = ? ORDER BY id`,
    )
    .all(id);
  return { row, attempts };
}

/**
 * Finished rows (delivered or dead-lettered) go back to the queue, due now. Rows still
 * pending are made due now too; rows in flight are left alone. Returns how many changed.
 * One transaction: a replay is all or nothing.
 */
export function replayDeliveries(
  store: Store,
  webhookId: string,
  ordering: Ordering,
  select: { id: string } | { since: number; until?: number },
  now: number,
): number {
  const { sqlite } = store;
  return sqlite
    .transaction(() => {
      const changed = requeueFinished(sqlite, webhookId, select, now);
      // Replayed rows are older than what is queued: per-chat heads move back to them.
      if (changed) recomputeReady(sqlite, webhookId, ordering);
      return changed;
    })
    .immediate();
}

export interface QueueStats {
  pending: number;
  in_flight: number;
  delivered: number;
  failed: number;
  oldest_pending_created_at: number | null;
}

export function queueStats(store: Store, webhookId: string): QueueStats {
  const counts = store.sqlite
    .query<{ status: DeliveryStatus; n: number }, [string]>("SELECT status, COUNT(*) n FROM outbox WHERE webhook_id = ? GROUP BY status")
    .all(webhookId);
  const by = Object.fromEntries(counts.map((c) => [c.status, c.n])) as Partial<Record<DeliveryStatus, number>>;
  const oldest = store.sqlite
    .query<{ t: number | null }, [string]>("SELECT MIN(created_at) t FROM outbox WHERE webhook_id = ? AND status IN ('pending', 'in_flight')")
    .get(webhookId);
  return {
    pending: by.pending ?? 0,
    in_flight: by.in_flight ?? 0,
    delivered: by.delivered ?? 0,
    failed: by.failed ?? 0,
    oldest_pending_created_at: oldest?.t ?? null,
  };
}

/** Every webhook's depth at once, for /metrics. */
export function allQueueDepths(store: Store): { webhook_id: string; status: DeliveryStatus; n: number; oldest: number | null }[] {
  return store.sqlite
    .query<{ webhook_id: string; status: DeliveryStatus; n: number; oldest: number | null }, []>(
      "SELECT webhook_id, status, COUNT(*) n, MIN(created_at) oldest FROM outbox WHERE status IN ('pending', 'in_flight', 'failed') GROUP BY webhook_id, status",
    )
    .all();
}
