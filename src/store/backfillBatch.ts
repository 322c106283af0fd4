// What a backfill selects (messages of an account by rowid range, chats and time) and the
// queueing of the next stretch of it: outbox rows for the job's webhooks and the cursor's
// move, in one transaction, so a restart neither skips nor repeats.
import { triggerOf } from "../domain.ts";
import { updateBackfill, type BackfillRow } from "./backfills.ts";
import type { Store } from "./db.ts";
import { wakeDeferredMedia } from "./media.ts";
import { enqueue } from "./outbox.ts";
import type { RawRow } from "./rows.ts";
import type { messages } from "./schema.ts";
import type { WebhookTarget } from "./webhooks.ts";

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
export function countSelected(store: Store, s: Selection): { received: number; sent: number } {
  const w = where(s);
  const out = { received: 0, sent: 0 };
  for (const r of store.sqlite
    .query<{ direction: "received" | "sent"; n: number }, (string | number)[]>(`SELECT direction, COUNT(*) n FROM messages WHERE ${w.sql} GROUP BY direction`)
    .all(...w.args)) {
    out[r.direction] = r.n;
  }
  return out;
}

/** The newest stored message's rowid: what a job's selection ends at when planning ends. */
export function maxMessageRowid(store: Store): number {
  return store.sqlite.query<{ m: number | null }, []>("SELECT MAX(rowid) m FROM messages").get()?.m ?? 0;
}

type Candidate = Pick<RawRow<typeof messages>, "rowid" | "chat_id" | "timestamp" | "direction">;

/**
 * The next selected messages after the cursor, in (timestamp, rowid) order: each chat's
 * messages in time order, and the chats interleaved, so per-chat ordering still lets many
 * chats be delivered at once.
 */
function nextCandidates(store: Store, s: Selection, after: { ts: number; rowid: number } | null, limit: number): Candidate[] {
  const w = where(s);
  const cursor = after ? " AND (timestamp, rowid) > (?, ?)" : "";
  const args = after ? [...w.args, after.ts, after.rowid, limit] : [...w.args, limit];
  return store.sqlite
    .query<Candidate, (string | number)[]>(`SELECT rowid, chat_id, timestamp, direction FROM messages WHERE ${w.sql}${cursor} ORDER BY timestamp, rowid LIMIT ?`)
    .all(...args);
}

/** Was this message already queued for this webhook under this event (live or earlier backfill)? Index outbox_message. */
function alreadyQueued(store: Store, webhookId: string, messageRowid: number, event: string): boolean {
  return !!store.sqlite.query("SELECT 1 FROM outbox WHERE message_rowid = ? AND webhook_id = ? AND event = ? LIMIT 1").get(messageRowid, webhookId, event);
}

export interface BatchLimits {
  /** The job's webhooks that still exist. */
  hooks: WebhookTarget[];
  /** Messages that may be queued now (the pace and the window allow); skipped ones do not count. */
  allowance: number;
  /** Candidates looked at, at most. */
  scan: number;
  priority: number;
  /** How long a delivery waits for its message's media, once its download starts. */
  mediaHoldMs: number;
  now: number;
}

export interface BatchResult {
  /** Messages queued (each for one or more webhooks). */
  queued: number;
  /** A deferred media download was started: the downloader has work. */
  mediaWoken: boolean;
}

/**
 * Queues the job's next messages for the webhooks that take their event, skipping a
 * message a webhook already got unless the job redelivers, and moves the cursor past what
 * was looked at; marks the job exhausted when the selection has nothing more.
 */
export function queueBackfillBatch(store: Store, job: BackfillRow, limits: BatchLimits): BatchResult {
  const { now } = limits;
  const selection = selectionOf(job, job.max_rowid ?? 0);
  let cursor = job.cursor_rowid === null ? null : { ts: job.cursor_ts!, rowid: job.cursor_rowid };
  let allowance = limits.allowance;
  const result: BatchResult = { queued: 0, mediaWoken: false };
  store.sqlite
    .transaction(() => {
      const candidates = nextCandidates(store, selection, cursor, limits.scan);
      let enqueued = 0;
      let skipped = 0;
      for (const c of candidates) {
        const event = triggerOf(c.direction);
        const takers = limits.hooks.filter((h) => h.events.includes(event));
        const targets = job.redeliver ? takers : takers.filter((h) => !alreadyQueued(store, h.id, c.rowid, event));
        if (targets.length && allowance <= 0) break;
        if (targets.length) {
          const media = wakeDeferredMedia(store, c.rowid, now);
          if (media === "pending") result.mediaWoken = true;
          for (const h of targets) {
            enqueue(
              store.sqlite,
              {
                webhookId: h.id,
                ordering: h.ordering,
                event,
                accountId: job.account_id,
                chatKey: c.chat_id,
                messageRowid: c.rowid,
                data: null,
                priority: limits.priority,
                // A message whose media is still downloading waits for it (bounded).
                availableAt: media === "pending" ? now + limits.mediaHoldMs : now,
                backfillId: job.id,
              },
              now,
            );
          }
          allowance--;
          result.queued++;
        }
        enqueued += targets.length;
        skipped += takers.length - targets.length;
        cursor = { ts: c.timestamp, rowid: c.rowid };
      }
      const exhausted = candidates.length < limits.scan && (candidates.length === 0 || cursor?.rowid === candidates.at(-1)?.rowid);
      updateBackfill(
        store,
        job.id,
        {
          enqueued: job.enqueued + enqueued,
          skipped: job.skipped + skipped,
          cursor_ts: cursor?.ts ?? null,
          cursor_rowid: cursor?.rowid ?? null,
          exhausted: exhausted ? 1 : 0,
        },
        now,
      );
    })
    .immediate();
  return result;
}
