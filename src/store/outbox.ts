// The delivery queue as rows. Hot paths use prepared statements directly: they run once
// per event and per attempt, and the query builder's overhead shows at thousands a second.
// Per-chat queries repeat `status IN ('pending', 'in_flight')` word for word: that is what
// lets SQLite use the partial index outbox_open instead of a chat's whole history.
import type { Database } from "bun:sqlite";
import type { Ordering } from "../domain.ts";
import type { Store } from "./db.ts";
import { newId } from "./ids.ts";
import type { RawRow } from "./rows.ts";
import type { deliveryAttempts, outbox } from "./schema.ts";

/** `outbox.priority`, claimed lowest first: live events never wait behind a backfill's history. */
export const PRIORITY_LIVE = 0;
export const PRIORITY_BACKFILL = 1;

export type OutboxRow = RawRow<typeof outbox>;

export interface EnqueueInput {
  webhookId: string;
  ordering: Ordering;
  event: string;
  accountId: string | null;
  chatKey: string;
  messageRowid: number | null;
  data: unknown;
  priority: number;
  /** Not before this time (ms); default now. Media downloads hold their message's rows. */
  availableAt?: number;
  /** The backfill queuing this row, if any. */
  backfillId?: string | null;
}

/**
 * Call inside the transaction that stored the message: seq and row commit together. Returns
 * what the caller cannot know (id, seq), not the row: reading a row back with `RETURNING *`
 * cost as much as the insert itself, once per event.
 */
export function enqueue(sqlite: Database, input: EnqueueInput, now = Date.now()): { id: string; seq: number } {
  const { last_seq: seq } = sqlite
    .query<{ last_seq: number }, [string, string]>(
      `INSERT INTO chat_seq (webhook_id, chat_key, last_seq) VALUES (?, ?, 1)
       ON CONFLICT (webhook_id, chat_key) DO UPDATE SET last_seq = last_seq + 1
       RETURNING last_seq`,
    )
    .get(input.webhookId, input.chatKey)!;
  // Per-chat order: a row is claimable only when nothing earlier of its chat is unfinished.
  const ready =
    input.ordering === "none" ||
    !sqlite
      .query(`SELECT 1 FROM outbox WHERE webhook_id = ? AND chat_key = ? AND status IN ('pending', 'in_flight') LIMIT 1`)
      .get(input.webhookId, input.chatKey);
  const id = newId("msg", now);
  sqlite
    .query<never, (string | number | null)[]>(
      `INSERT INTO outbox (id, webhook_id, message_rowid, event, account_id, chat_key, seq, priority, data, status, ready, attempts, available_at, created_at, backfill_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, 0, ?, ?, ?)`,
    )
    .run(
      id,
      input.webhookId,
      input.messageRowid,
      input.event,
      input.accountId,
      input.chatKey,
      seq,
      input.priority,
      input.data === undefined || input.data === null ? null : JSON.stringify(input.data),
      ready ? 1 : 0,
      input.availableAt ?? now,
      now,
      input.backfillId ?? null,
    );
  return { id, seq };
}

/**
 * A row of this message for this webhook and event that has not been sent yet, or null
 * (index outbox_message). When a placeholder's content arrives, such a row sends the
 * content; a row already sent, or being sent, gets a new row after it.
 */
export function unsentRowOf(sqlite: Database, messageRowid: number, webhookId: string, event: string): string | null {
  const row = sqlite
    .query<{ id: string }, [number, string, string]>(`SELECT id FROM outbox WHERE message_rowid = ? AND webhook_id = ? AND event = ? AND status = 'pending' LIMIT 1`)
    .get(messageRowid, webhookId, event);
  return row?.id ?? null;
}

/** A held row becomes due at `availableAt` (now, or when its media download may end). */
export function makeDueAt(sqlite: Database, rowId: string, availableAt: number): void {
  sqlite.query(`UPDATE outbox SET available_at = ? WHERE id = ? AND status = 'pending'`).run(availableAt, rowId);
}

/** Pending rows of a message that were held for its media download become due now. */
export function releaseHeld(sqlite: Database, messageRowid: number, now: number): void {
  sqlite.query("UPDATE outbox SET available_at = ? WHERE message_rowid = ? AND status = 'pending' AND available_at > ?").run(now, messageRowid, now);
}

/** What a worker needs of a claimed row to send it and record the answer. */
export type ClaimedRow = Pick<OutboxRow, "id" | "webhook_id" | "message_rowid" | "event" | "chat_key" | "seq" | "data" | "attempts" | "backfill_id" | "created_at">;

/**
 * Claims up to `limit` due rows of one webhook with a lease, in one statement, best first:
 * live before backfill traffic (priority), then the longest due, then insertion order.
 *
 * That order is the order of outbox_claim (webhook_id, status, ready, priority,
 * available_at, then rowid as every index entry ends with it), which the scan is pinned to
 * (INDEXED BY) instead of being asked for with ORDER BY: this SQLite (3.54) prepares a
 * statement with ORDER BY or LIMIT ? again on every bind, which was most of a claim's
 * cost. `limit` is written into the SQL (a handful of statements, one per size). The
 * order is checked by test/store/outbox.test.ts.
 */
export function claim(sqlite: Database, webhookId: string, limit: number, now: number, leaseMs: number): ClaimedRow[] {
  const n = Math.max(1, Math.floor(limit));
  return sqlite
    .query<ClaimedRow, [number, number, string, number]>(
      `UPDATE outbox SET status = 'in_flight', lease_until = ?, attempts = attempts + 1, last_attempt_at = ?
       WHERE rowid IN (
         SELECT rowid FROM outbox INDEXED BY outbox_claim
         WHERE webhook_id = ? AND status = 'pending' AND ready = 1 AND available_at <= ?
         LIMIT ${n}
       ) RETURNING id, webhook_id, message_rowid, event, chat_key, seq, data, attempts, backfill_id, created_at`,
    )
    .all(now + leaseMs, now, webhookId, now);
}

/** One HTTP attempt for the delivery log. */
export type AttemptRecord = Omit<typeof deliveryAttempts.$inferSelect, "id">;

export function recordAttempt(sqlite: Database, a: AttemptRecord): void {
  sqlite
    .query(
      `INSERT INTO delivery_attempts (outbox_id, webhook_id, attempt, started_at, duration_ms, status_code, error_class, error, response_excerpt, outcome)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(a.outboxId, a.webhookId, a.attempt, a.startedAt, a.durationMs, a.statusCode, a.errorClass, a.error, a.responseExcerpt, a.outcome);
}

/** Finished (delivered or dead-lettered): the chat's next row becomes claimable. */
export function finishRow(sqlite: Database, row: Pick<OutboxRow, "id" | "webhook_id" | "chat_key" | "seq">, status: "delivered" | "failed", now: number, statusCode: number | null, error: string | null): void {
  sqlite
    .query(
      `UPDATE outbox SET status = ?, lease_until = NULL, last_status_code = ?, last_error = ?, delivered_at = ?
       WHERE id = ?`,
    )
    .run(status, statusCode, error, status === "delivered" ? now : null, row.id);
  promoteNext(sqlite, row.webhook_id, row.chat_key, row.seq);
}

/**
 * The chat's head (its lowest unfinished seq) becomes claimable, unless it already is or
 * is in flight. Only the head is ever ready under per-chat order.
 *
 * Almost always the head is the row right after the one that just finished, and one
 * indexed UPDATE decides it. The general lookup is kept for the rest (a gap left by a
 * deleted message, a replayed old row): this SQLite (3.54) prepares a statement with
 * ORDER BY or LIMIT ? again every time its parameters are bound, which cost 5 µs of 11
 * per delivery here. A chat with nothing open skips it with an existence check.
 */
export function promoteNext(sqlite: Database, webhookId: string, chatKey: string, finishedSeq?: number): void {
  if (finishedSeq !== undefined) {
    const { changes } = sqlite
      .query(
        `UPDATE outbox SET ready = 1
         WHERE webhook_id = ?1 AND chat_key = ?2 AND seq = ?3 AND status = 'pending' AND ready = 0
           AND NOT EXISTS (
             SELECT 1 FROM outbox WHERE webhook_id = ?1 AND chat_key = ?2 AND status IN ('pending', 'in_flight') AND seq < ?3
           )`,
      )
      .run(webhookId, chatKey, finishedSeq + 1);
    if (changes) return;
  }
  const open = sqlite
    .query(`SELECT 1 FROM outbox WHERE webhook_id = ? AND chat_key = ? AND status IN ('pending', 'in_flight') LIMIT 1`)
    .get(webhookId, chatKey);
  if (!open) return;
  sqlite
    .query(
      `UPDATE outbox SET ready = 1 WHERE id = (
         SELECT id FROM outbox WHERE webhook_id = ? AND chat_key = ? AND status IN ('pending', 'in_flight') ORDER BY seq LIMIT 1
       ) AND status = 'pending' AND ready = 0`,
    )
    .run(webhookId, chatKey);
}

/** Back to the queue, due at `availableAt` (a retry, a pause, a disabled endpoint). */
export function requeueRow(sqlite: Database, rowId: string, availableAt: number, statusCode: number | null, error: string | null): void {
  sqlite
    .query(`UPDATE outbox SET status = 'pending', lease_until = NULL, available_at = ?, last_status_code = ?, last_error = ? WHERE id = ?`)
    .run(availableAt, statusCode, error, rowId);
}

/** The attempt the claim counted does not count after all: a throttled event keeps its place in the retry schedule. */
export function refundAttempt(sqlite: Database, rowId: string): void {
  sqlite.query("UPDATE outbox SET attempts = attempts - 1 WHERE id = ?").run(rowId);
}

/** Deletes these rows with their attempts (retention); returns how many of each went. */
export function deleteRows(sqlite: Database, ids: string[]): { outbox: number; attempts: number } {
  const list = JSON.stringify(ids);
  const attempts = sqlite.query("DELETE FROM delivery_attempts WHERE outbox_id IN (SELECT value FROM json_each(?))").run(list).changes;
  return { outbox: sqlite.query("DELETE FROM outbox WHERE id IN (SELECT value FROM json_each(?))").run(list).changes, attempts };
}

/** Deletes every row of these messages with their attempts (the messages go; index outbox_message). */
export function deleteRowsOfMessages(sqlite: Database, messageRowids: number[]): { outbox: number; attempts: number } {
  const list = JSON.stringify(messageRowids);
  const attempts = sqlite
    .query("DELETE FROM delivery_attempts WHERE outbox_id IN (SELECT id FROM outbox WHERE message_rowid IN (SELECT value FROM json_each(?)))")
    .run(list).changes;
  return { outbox: sqlite.query("DELETE FROM outbox WHERE message_rowid IN (SELECT value FROM json_each(?))").run(list).changes, attempts };
}

/** An account's whole queue with its attempts (the account is purged). */
export function deleteRowsOfAccount(sqlite: Database, accountId: string): void {
  sqlite.query("DELETE FROM delivery_attempts WHERE outbox_id IN (SELECT id FROM outbox WHERE account_id = ?)").run(accountId);
  sqlite.query("DELETE FROM outbox WHERE account_id = ?").run(accountId);
}

/**
 * A replay: finished rows (delivered or dead-lettered) go back to the queue, due now, and
 * pending ones are made due now; rows in flight are left alone. Returns how many changed.
 */
export function requeueFinished(sqlite: Database, webhookId: string, select: { id: string } | { since: number; until?: number }, now: number): number {
  if ("id" in select) {
    return sqlite
      .query(
        `UPDATE outbox SET status = 'pending', available_at = ?, delivered_at = NULL, lease_until = NULL
         WHERE webhook_id = ? AND id = ? AND status != 'in_flight'`,
      )
      .run(now, webhookId, select.id).changes;
  }
  return sqlite
    .query(
      `UPDATE outbox SET status = 'pending', available_at = ?, delivered_at = NULL, lease_until = NULL
       WHERE webhook_id = ? AND status != 'in_flight' AND created_at >= ? AND created_at <= ?`,
    )
    .run(now, webhookId, select.since, select.until ?? Number.MAX_SAFE_INTEGER).changes;
}

/** Rows whose lease ran out (a worker died mid-send) go back to the queue. */
export function releaseExpiredLeases(store: Store, now: number): number {
  return store.sqlite.query(`UPDATE outbox SET status = 'pending', lease_until = NULL WHERE status = 'in_flight' AND lease_until < ?`).run(now).changes;
}

/** At start-up every in-flight row belongs to a process that is gone. */
export function releaseAllLeases(store: Store): number {
  return store.sqlite.query(`UPDATE outbox SET status = 'pending', lease_until = NULL WHERE status = 'in_flight'`).run().changes;
}

/**
 * Recomputes which rows are claimable after an ordering change or a replay: with
 * per-chat ordering, the lowest unfinished seq of each chat; with none, every pending row.
 */
export function recomputeReady(sqlite: Database, webhookId: string, ordering: Ordering): void {
  if (ordering === "none") {
    sqlite.query(`UPDATE outbox SET ready = 1 WHERE webhook_id = ? AND status = 'pending' AND ready = 0`).run(webhookId);
    return;
  }
  sqlite
    .query(
      `UPDATE outbox SET ready = (seq = (
         SELECT MIN(p.seq) FROM outbox p
         WHERE p.webhook_id = outbox.webhook_id AND p.chat_key = outbox.chat_key AND p.status IN ('pending', 'in_flight')
       ))
       WHERE webhook_id = ? AND status = 'pending'`,
    )
    .run(webhookId);
}

export function getOutboxRow(sqlite: Database, id: string): OutboxRow | null {
  return sqlite.query<OutboxRow, [string]>("SELECT * FROM outbox WHERE id = ?").get(id);
}
