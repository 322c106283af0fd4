// Backfill jobs as rows: what they select, where their cursor (timestamp, rowid) stands,
// what they asked the phone for. The runner (src/backfill/) moves them; every move is one transaction here.
import type { Database } from "bun:sqlite";
import { newId } from "./ids.ts";

export type BackfillState = "planning" | "running" | "paused" | "finished" | "cancelled" | "failed";

export interface BackfillRow {
  id: string;
  account_id: string;
  state: BackfillState;
  auto: number;
  webhook_ids: string;
  chat_ids: string | null;
  since: number | null;
  until: number | null;
  older_per_chat: number | null;
  rate_per_s: number;
  redeliver: number;
  min_rowid: number;
  max_rowid: number | null;
  plan_after: number | null;
  total: number | null;
  enqueued: number;
  skipped: number;
  delivered: number | null;
  failed: number | null;
  cursor_ts: number | null;
  cursor_rowid: number | null;
  exhausted: number;
  error: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  updated_at: number;
}

export interface NewBackfill {
  accountId: string;
  webhookIds: string[];
  chatIds: string[] | null;
  since: number | null;
  until: number | null;
  olderPerChat: number | null;
  ratePerS: number;
  redeliver: boolean;
}

/** States in which a job still has work to do. */
export const ACTIVE_STATES: BackfillState[] = ["planning", "running"];

/** Creates a job in `planning`, with one older-messages row per chat when asked for. */
export function insertBackfill(sqlite: Database, v: NewBackfill, olderChats: string[], now = Date.now()): BackfillRow {
  return sqlite
    .transaction(() => {
      const row = sqlite
        .query<BackfillRow, (string | number | null)[]>(
          `INSERT INTO backfills (id, account_id, state, auto, webhook_ids, chat_ids, since, until, older_per_chat, rate_per_s, redeliver, created_at, updated_at)
           VALUES (?, ?, 'planning', 0, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
        )
        .get(
          newId("bf", now),
          v.accountId,
          JSON.stringify(v.webhookIds),
          v.chatIds ? JSON.stringify(v.chatIds) : null,
          v.since,
          v.until,
          v.olderPerChat,
          v.ratePerS,
          v.redeliver ? 1 : 0,
          now,
          now,
        )!;
      if (v.olderPerChat) {
        const q = sqlite.query("INSERT INTO backfill_older (backfill_id, chat_id, wanted, state) VALUES (?, ?, ?, 'waiting')");
        for (const chat of olderChats) q.run(row.id, chat, v.olderPerChat);
      }
      return row;
    })
    .immediate();
}

/**
 * History arrived for an account with `include_history` webhooks: the account's planning
 * auto job waits a little longer for more, or a new one starts with the messages after
 * `afterRowid`. Call inside the transaction that stored the history.
 */
export function touchAutoBackfill(sqlite: Database, accountId: string, afterRowid: number, planAfter: number, ratePerS: number, now = Date.now()): string {
  const waiting = sqlite
    .query<{ id: string }, [number, number, string]>(
      `UPDATE backfills SET plan_after = ?, updated_at = ? WHERE account_id = ? AND auto = 1 AND state = 'planning' RETURNING id`,
    )
    .get(planAfter, now, accountId);
  if (waiting) return waiting.id;
  // Each auto job covers its own range of rows: the previous one's end, or this batch's start.
  const previous = sqlite
    .query<{ max_rowid: number | null }, [string]>("SELECT MAX(max_rowid) max_rowid FROM backfills WHERE account_id = ? AND auto = 1")
    .get(accountId);
  const minRowid = Math.max(previous?.max_rowid ?? 0, afterRowid);
  const id = newId("bf", now);
  sqlite
    .query(
      `INSERT INTO backfills (id, account_id, state, auto, webhook_ids, rate_per_s, redeliver, min_rowid, plan_after, created_at, updated_at)
       VALUES (?, ?, 'planning', 1, '[]', ?, 0, ?, ?, ?, ?)`,
    )
    .run(id, accountId, ratePerS, minRowid, planAfter, now, now);
  return id;
}

export function getBackfill(sqlite: Database, id: string): BackfillRow | null {
  return sqlite.query<BackfillRow, [string]>("SELECT * FROM backfills WHERE id = ?").get(id);
}

/** An account's jobs, newest first. */
export function listBackfills(sqlite: Database, accountId: string, limit: number, before?: string): BackfillRow[] {
  return sqlite
    .query<BackfillRow, (string | number)[]>(
      `SELECT * FROM backfills WHERE account_id = ? ${before ? "AND id < ?" : ""} ORDER BY id DESC LIMIT ?`,
    )
    .all(...(before ? [accountId, before, limit] : [accountId, limit]));
}

export function activeBackfills(sqlite: Database): BackfillRow[] {
  return sqlite.query<BackfillRow, []>("SELECT * FROM backfills WHERE state IN ('planning', 'running') ORDER BY id").all();
}

type BackfillPatch = Partial<Omit<BackfillRow, "id">>;

/** Writes `patch` (and updated_at) to the job, if `from` is null or holds its state. */
function patchBackfill(sqlite: Database, id: string, patch: BackfillPatch, from: BackfillState[] | null, now: number): BackfillRow | null {
  const entries = Object.entries({ ...patch, updated_at: now });
  const sets = entries.map(([k]) => `${k} = ?`).join(", ");
  const inState = from ? ` AND state IN (${from.map(() => "?").join(", ")})` : "";
  return sqlite
    .query<BackfillRow, (string | number | null)[]>(`UPDATE backfills SET ${sets} WHERE id = ?${inState} RETURNING *`)
    .get(...(entries.map(([, v]) => v) as (string | number | null)[]), id, ...(from ?? []));
}

export function updateBackfill(sqlite: Database, id: string, patch: BackfillPatch, now = Date.now()): BackfillRow | null {
  return patchBackfill(sqlite, id, patch, null, now);
}

/** Moves a job from one of `from` to `to`; null when it was in another state. */
export function transitionBackfill(sqlite: Database, id: string, from: BackfillState[], to: BackfillState, patch: BackfillPatch = {}, now = Date.now()): BackfillRow | null {
  return patchBackfill(sqlite, id, { ...patch, state: to }, from, now);
}

export interface OutcomeCounts {
  pending: number;
  in_flight: number;
  delivered: number;
  failed: number;
}

/** How the job's queued rows fared so far. */
export function backfillOutcomes(sqlite: Database, id: string): OutcomeCounts {
  const out: OutcomeCounts = { pending: 0, in_flight: 0, delivered: 0, failed: 0 };
  for (const r of sqlite.query<{ status: keyof OutcomeCounts; n: number }, [string]>("SELECT status, COUNT(*) n FROM outbox WHERE backfill_id = ? GROUP BY status").all(id)) {
    out[r.status] = r.n;
  }
  return out;
}

// ---- selection ----------------------------------------------------------------------------

export interface Selection {
  accountId: string;
  chatIds: string[] | null;
  since: number | null;
  until: number | null;
  minRowid: number;
  maxRowid: number;
  historyOnly: boolean;
}

export function selectionOf(row: BackfillRow, maxRowid: number): Selection {
  return {
    accountId: row.account_id,
    chatIds: row.chat_ids ? (JSON.parse(row.chat_ids) as string[]) : null,
    since: row.since,
    until: row.until,
    minRowid: row.min_rowid,
    maxRowid,
    // Auto jobs deliver what history sync brought, never live messages again.
    historyOnly: row.auto === 1,
  };
}

function where(s: Selection): { sql: string; args: (string | number)[] } {
  const parts = ["account_id = ?", "rowid > ?", "rowid <= ?"];
  const args: (string | number)[] = [s.accountId, s.minRowid, s.maxRowid];
  if (s.chatIds) {
    parts.push(`chat_id IN (${s.chatIds.map(() => "?").join(", ")})`);
    args.push(...s.chatIds);
  }
  if (s.since !== null) (parts.push("timestamp >= ?"), args.push(s.since));
  if (s.until !== null) (parts.push("timestamp <= ?"), args.push(s.until));
  if (s.historyOnly) parts.push("history = 1");
  return { sql: parts.join(" AND "), args };
}

/** Selected messages by direction (what the total is computed from). */
export function countSelected(sqlite: Database, s: Selection): { received: number; sent: number } {
  const w = where(s);
  const out = { received: 0, sent: 0 };
  for (const r of sqlite
    .query<{ direction: "received" | "sent"; n: number }, (string | number)[]>(`SELECT direction, COUNT(*) n FROM messages WHERE ${w.sql} GROUP BY direction`)
    .all(...w.args)) {
    out[r.direction] = r.n;
  }
  return out;
}

export interface Candidate {
  rowid: number;
  chat_id: string;
  timestamp: number;
  direction: "received" | "sent";
}

export interface Cursor {
  ts: number;
  rowid: number;
}

/**
 * The next selected messages after the cursor, in (timestamp, rowid) order: each chat's
 * messages in time order, and the chats interleaved, so per-chat ordering still lets many
 * chats be delivered at once.
 */
export function nextCandidates(sqlite: Database, s: Selection, after: Cursor | null, limit: number): Candidate[] {
  const w = where(s);
  const cursor = after ? " AND (timestamp, rowid) > (?, ?)" : "";
  const args = after ? [...w.args, after.ts, after.rowid, limit] : [...w.args, limit];
  return sqlite
    .query<Candidate, (string | number)[]>(
      `SELECT rowid, chat_id, timestamp, direction FROM messages WHERE ${w.sql}${cursor} ORDER BY timestamp, rowid LIMIT ?`,
    )
    .all(...args);
}

/** Was this message already queued for this webhook under this event (live or earlier backfill)? */
export function alreadyQueued(sqlite: Database, webhookId: string, messageRowid: number, event: string): boolean {
  return !!sqlite.query("SELECT 1 FROM outbox WHERE message_rowid = ? AND webhook_id = ? AND event = ? LIMIT 1").get(messageRowid, webhookId, event);
}

export function maxMessageRowid(sqlite: Database): number {
  return sqlite.query<{ m: number | null }, []>("SELECT MAX(rowid) m FROM messages").get()?.m ?? 0;
}

// ---- older messages from the phone -----------------------------------------------------------

export interface OlderRow {
  backfill_id: string;
  chat_id: string;
  wanted: number;
  received: number;
  requests: number;
  state: "waiting" | "requested" | "done" | "unanswered";
  request_id: string | null;
  requested_at: number | null;
}

export function olderRows(sqlite: Database, backfillId: string): OlderRow[] {
  return sqlite.query<OlderRow, [string]>("SELECT * FROM backfill_older WHERE backfill_id = ? ORDER BY chat_id").all(backfillId);
}

export function markOlderRequested(sqlite: Database, backfillId: string, chatId: string, requestId: string, now: number): void {
  sqlite
    .query("UPDATE backfill_older SET state = 'requested', request_id = ?, requested_at = ?, requests = requests + 1 WHERE backfill_id = ? AND chat_id = ?")
    .run(requestId, now, backfillId, chatId);
}

export function finishOlder(sqlite: Database, backfillId: string, chatId: string, state: "done" | "unanswered"): void {
  sqlite.query("UPDATE backfill_older SET state = ?, request_id = NULL WHERE backfill_id = ? AND chat_id = ?").run(state, backfillId, chatId);
}

/**
 * The phone answered an on-demand request with `count` messages: ask again for more while
 * it keeps answering and fewer than wanted came, else that chat is done.
 */
export function recordOlderAnswer(sqlite: Database, requestId: string, count: number, perRequest: number): number {
  return sqlite
    .query(
      `UPDATE backfill_older SET received = received + ?1, request_id = NULL,
         state = CASE WHEN ?1 < MIN(?2, wanted - received) OR received + ?1 >= wanted THEN 'done' ELSE 'waiting' END
       WHERE request_id = ?3`,
    )
    .run(count, perRequest, requestId).changes;
}

/** The oldest stored message of a chat: where an on-demand request starts from. */
export function oldestMessage(sqlite: Database, accountId: string, chatId: string): { data: string; timestamp: number } | null {
  return sqlite
    .query<{ data: string; timestamp: number }, [string, string]>(
      "SELECT data, timestamp FROM messages WHERE account_id = ? AND chat_id = ? ORDER BY timestamp, rowid LIMIT 1",
    )
    .get(accountId, chatId);
}

/** Chats with stored messages, for `older_per_chat` without `chat_ids`. */
export function chatIdsOf(sqlite: Database, accountId: string): string[] {
  return sqlite
    .query<{ chat_id: string }, [string]>("SELECT DISTINCT chat_id FROM messages WHERE account_id = ? ORDER BY chat_id")
    .all(accountId)
    .map((r) => r.chat_id);
}
