// Backfill jobs as rows: what they select, where their cursor (timestamp, rowid) stands,
// how they ended. The backfill stage (src/backfill/) decides when a job moves; every move is
// one statement or one transaction here.
import type { BackfillState, DeliveryStatus } from "../domain.ts";
import type { Store } from "./db.ts";
import { newId } from "./ids.ts";
import { addOlderChats } from "./backfillOlder.ts";
import { enqueue } from "./outbox.ts";
import type { RawRow } from "./rows.ts";
import type { backfills } from "./schema.ts";
import { webhookTargets } from "./webhooks.ts";

export type BackfillRow = RawRow<typeof backfills>;

export interface NewBackfill {
  accountId: string;
  webhookIds: string[];
  chatIds: string[] | null;
  /** Message timestamp bounds, unix seconds. */
  since: number | null;
  until: number | null;
  olderPerChat: number | null;
  ratePerS: number;
  redeliver: boolean;
}

/** Creates a job in `planning`, with one older-messages row per chat of `olderChats`. */
export function insertBackfill(store: Store, v: NewBackfill, olderChats: string[], now = Date.now()): BackfillRow {
  const { sqlite } = store;
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
      if (v.olderPerChat) addOlderChats(store, row.id, olderChats, v.olderPerChat);
      return row;
    })
    .immediate();
}

/**
 * History arrived for an account with `include_history` webhooks: the account's planning
 * auto job waits a little longer for more, or a new one starts with the messages after
 * `afterRowid`. Call inside the transaction that stored the history.
 */
export function touchAutoBackfill(store: Store, accountId: string, afterRowid: number, planAfter: number, ratePerS: number, now = Date.now()): string {
  const { sqlite } = store;
  const waiting = sqlite
    .query<Pick<BackfillRow, "id">, [number, number, string]>(
      `UPDATE backfills SET plan_after = ?, updated_at = ? WHERE account_id = ? AND auto = 1 AND state = 'planning' RETURNING id`,
    )
    .get(planAfter, now, accountId);
  if (waiting) return waiting.id;
  // Each auto job covers its own range of rows: the previous one's end, or this batch's start.
  const previous = sqlite
    .query<Pick<BackfillRow, "max_rowid">, [string]>("SELECT MAX(max_rowid) max_rowid FROM backfills WHERE account_id = ? AND auto = 1")
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

export function getBackfill(store: Store, id: string): BackfillRow | null {
  return store.sqlite.query<BackfillRow, [string]>("SELECT * FROM backfills WHERE id = ?").get(id);
}

/** An account's jobs, newest first. */
export function listBackfills(store: Store, accountId: string, limit: number, before?: string): BackfillRow[] {
  return store.sqlite
    .query<BackfillRow, (string | number)[]>(`SELECT * FROM backfills WHERE account_id = ? ${before ? "AND id < ?" : ""} ORDER BY id DESC LIMIT ?`)
    .all(...(before ? [accountId, before, limit] : [accountId, limit]));
}

/** Jobs with work to do: planning or running. */
export function activeBackfills(store: Store): BackfillRow[] {
  return store.sqlite.query<BackfillRow, []>("SELECT * FROM backfills WHERE state IN ('planning', 'running') ORDER BY id").all();
}

export type BackfillPatch = Partial<Omit<BackfillRow, "id">>;

/** Writes `patch` (and updated_at) to the job, if `from` is null or holds its state. */
function patchBackfill(store: Store, id: string, patch: BackfillPatch, from: BackfillState[] | null, now: number): BackfillRow | null {
  const entries = Object.entries({ ...patch, updated_at: now });
  const sets = entries.map(([k]) => `${k} = ?`).join(", ");
  const inState = from ? ` AND state IN (${from.map(() => "?").join(", ")})` : "";
  return store.sqlite
    .query<BackfillRow, (string | number | null)[]>(`UPDATE backfills SET ${sets} WHERE id = ?${inState} RETURNING *`)
    .get(...(entries.map(([, v]) => v) as (string | number | null)[]), id, ...(from ?? []));
}

export function updateBackfill(store: Store, id: string, patch: BackfillPatch, now = Date.now()): BackfillRow | null {
  return patchBackfill(store, id, patch, null, now);
}

/** Moves a job from one of `from` to `to`; null when it was in another state. */
export function transitionBackfill(store: Store, id: string, from: BackfillState[], to: BackfillState, patch: BackfillPatch = {}, now = Date.now()): BackfillRow | null {
  return patchBackfill(store, id, { ...patch, state: to }, from, now);
}

/** The job's queued rows by delivery status. */
export type OutcomeCounts = Record<DeliveryStatus, number>;

/** How the job's queued rows fared so far (index outbox_backfill). */
export function backfillOutcomes(store: Store, id: string): OutcomeCounts {
  const out: OutcomeCounts = { pending: 0, in_flight: 0, delivered: 0, failed: 0 };
  for (const r of store.sqlite.query<{ status: DeliveryStatus; n: number }, [string]>("SELECT status, COUNT(*) n FROM outbox WHERE backfill_id = ? GROUP BY status").all(id)) {
    out[r.status] = r.n;
  }
  return out;
}

export interface JobEnd {
  id: string;
  /** The states it may end from. */
  from: BackfillState[];
  state: Extract<BackfillState, "finished" | "failed" | "cancelled">;
  error: string | null;
  now: number;
}

/** The `backfill.finished` event an ended job sends its webhooks that subscribe to it. */
export interface EndAnnouncement {
  priority: number;
  body(row: BackfillRow): unknown;
}

/**
 * Moves a job to an end state in one transaction: outcome counts frozen into the row and
 * the announcement queued for each of its webhooks that subscribes to `backfill.finished`.
 * Null when the job was not in one of `end.from`.
 */
export function endBackfill(store: Store, end: JobEnd, announcement: EndAnnouncement): BackfillRow | null {
  const { sqlite } = store;
  return sqlite
    .transaction(() => {
      const outcomes = backfillOutcomes(store, end.id);
      const row = transitionBackfill(store, end.id, end.from, end.state, { delivered: outcomes.delivered, failed: outcomes.failed, finished_at: end.now, error: end.error }, end.now);
      if (!row) return null;
      for (const h of webhookTargets(store, JSON.parse(row.webhook_ids) as string[])) {
        if (!h.events.includes("backfill.finished")) continue;
        enqueue(
          sqlite,
          {
            webhookId: h.id,
            ordering: h.ordering,
            event: "backfill.finished",
            accountId: row.account_id,
            // One stream per webhook for these events, so their seq counts backfills.
            chatKey: "backfills",
            messageRowid: null,
            data: announcement.body(row),
            priority: announcement.priority,
          },
          end.now,
        );
      }
      return row;
    })
    .immediate();
}
