// Moves backfill jobs along: planning (ask the phone for older messages, wait for history
// to settle, count what is selected), running (queue the next messages at the job's pace),
// finished. The pace is kept by queueing, not by holding rows: a job never has more than a
// small window of rows in the outbox, so live messages never wait behind a history flood,
// and the cursor in the job's row says exactly where it stands after a crash.
import { triggerOf, type EventType, type Message } from "../domain.ts";
import type { Logger } from "../log.ts";
import type { Store } from "../store/db.ts";
import {
  activeBackfills,
  alreadyQueued,
  backfillOutcomes,
  countSelected,
  finishOlder,
  markOlderRequested,
  maxMessageRowid,
  nextCandidates,
  oldestMessage,
  olderRows,
  selectionOf,
  transitionBackfill,
  updateBackfill,
  type BackfillRow,
  type BackfillState,
  type Cursor,
} from "../store/backfills.ts";
import { wakeDeferredMedia } from "../store/media.ts";
import { enqueue } from "../store/outbox.ts";
import { historyWebhooks, webhookTargets, type WebhookTarget } from "../store/webhooks.ts";
import { TokenBucket } from "../tokenBucket.ts";

/** Default pace, messages per second per webhook (the hosted product's users feared floods). */
export const DEFAULT_RATE_PER_S = 20;
/** History must be quiet this long before an automatic backfill counts what it will send. */
export const HISTORY_SETTLE_MS = 5_000;
/** WhatsApp answers on-demand history requests with at most about this many messages. */
export const OLDER_PER_REQUEST = 50;
/** At most this many on-demand requests per second and job (the phone answers them one by one). */
const OLDER_REQUESTS_PER_S = 2;
/** An on-demand request not answered in this time is given up (the phone may be offline). */
export const OLDER_TIMEOUT_MS = 20_000;
/** Planning never waits for the phone longer than this in all. */
export const PLANNING_MAX_MS = 3 * 60_000;
/** Candidates looked at per job and tick (skips of already-sent messages are cheap). */
const SCAN = 500;
/** Backfill rows go after live rows in the worker's claim order. */
export const PRIORITY_BACKFILL = 1;

export interface RunnerDeps {
  store: Store;
  log: Logger;
  wakeDelivery(): void;
  wakeMedia(): void;
  /** How long a delivery may wait for its media download. */
  mediaHoldMs: number;
  /**
   * Asks the phone for `count` messages older than `oldest` in its chat; resolves with the
   * request id its answer will carry. Rejects when the account is not connected.
   */
  requestOlder(accountId: string, oldest: Message, count: number): Promise<string>;
  now?: () => number;
}

/** The window of rows a job may have queued and not yet delivered. */
export function windowOf(ratePerS: number): number {
  return Math.max(2, Math.ceil(ratePerS / 2));
}

export class BackfillRunner {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private running = false;
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly lastOlderRequest = new Map<string, number>();
  private readonly olderInFlight = new Set<string>();
  private readonly now: () => number;

  constructor(private readonly deps: RunnerDeps) {
    this.now = deps.now ?? Date.now;
  }

  start(): void {
    this.running = true;
    this.wake();
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Runs a tick soon (new job, resumed job, history arrived); ticks repeat while jobs are active. */
  wake = (): void => {
    if (!this.running || this.timer) return;
    this.timer = setTimeout(this.tick, 0);
  };

  tick = (): void => {
    this.timer = null;
    if (!this.running) return;
    let next = Infinity;
    for (const job of activeBackfills(this.deps.store.sqlite)) {
      try {
        if (job.state === "planning") {
          this.plan(job);
          next = Math.min(next, 200);
        } else {
          this.advance(job);
          next = Math.min(next, Math.min(200, Math.max(20, Math.floor(1000 / job.rate_per_s))));
        }
      } catch (error) {
        // A job that cannot move is marked failed with the reason rather than retried forever.
        this.deps.log.error("backfill failed", { backfill_id: job.id, error });
        this.end(job, "failed", `internal error: ${(error as Error).message}`);
      }
    }
    if (next !== Infinity && this.running) this.timer = setTimeout(this.tick, next);
  };

  private hooksOf(job: BackfillRow): WebhookTarget[] {
    const { sqlite } = this.deps.store;
    // Automatic jobs go to every webhook that asked for history of this account.
    if (job.auto === 1 && job.state === "planning") return historyWebhooks(sqlite, job.account_id);
    return webhookTargets(sqlite, JSON.parse(job.webhook_ids) as string[]);
  }

  // ---- planning ---------------------------------------------------------------------------

  private plan(job: BackfillRow): void {
    const now = this.now();
    if (job.plan_after !== null && job.plan_after > now) return;
    if (job.older_per_chat && !this.olderDone(job, now)) return;
    const { sqlite } = this.deps.store;
    const hooks = this.hooksOf(job);
    if (!hooks.length) {
      this.end(job, "failed", job.auto ? "no webhook asks for history any more" : "its webhooks were deleted");
      return;
    }
    const maxRowid = maxMessageRowid(sqlite);
    const counts = countSelected(sqlite, selectionOf(job, maxRowid));
    const takers = (event: EventType) => hooks.filter((h) => h.events.includes(event)).length;
    const total = counts.received * takers("message.received") + counts.sent * takers("message.sent");
    const started = transitionBackfill(sqlite, job.id, ["planning"], "running", {
      webhook_ids: JSON.stringify(hooks.map((h) => h.id)),
      max_rowid: maxRowid,
      total,
      started_at: now,
    });
    if (started) this.deps.log.info("backfill running", { backfill_id: job.id, account_id: job.account_id, total, rate_per_s: job.rate_per_s });
  }

  /** Sends due on-demand requests, gives up on late ones; true once every chat is settled. */
  private olderDone(job: BackfillRow, now: number): boolean {
    const { sqlite } = this.deps.store;
    const giveUp = now - job.created_at > PLANNING_MAX_MS;
    let open = 0;
    for (const row of olderRows(sqlite, job.id)) {
      if (row.state === "done" || row.state === "unanswered") continue;
      if (giveUp || (row.state === "requested" && (row.requested_at ?? 0) + OLDER_TIMEOUT_MS < now)) {
        finishOlder(sqlite, job.id, row.chat_id, "unanswered");
        continue;
      }
      open++;
      if (row.state !== "waiting") continue;
      const key = `${job.id} ${row.chat_id}`;
      if (this.olderInFlight.has(key) || now - (this.lastOlderRequest.get(job.id) ?? 0) < 1000 / OLDER_REQUESTS_PER_S) continue;
      const oldest = oldestMessage(sqlite, job.account_id, row.chat_id);
      if (!oldest) {
        finishOlder(sqlite, job.id, row.chat_id, "done");
        continue;
      }
      this.lastOlderRequest.set(job.id, now);
      this.olderInFlight.add(key);
      const count = Math.min(OLDER_PER_REQUEST, row.wanted - row.received);
      this.deps
        .requestOlder(job.account_id, JSON.parse(oldest.data) as Message, count)
        .then((requestId) => markOlderRequested(sqlite, job.id, row.chat_id, requestId, this.now()))
        // Not connected right now: the row stays waiting and is asked again until planning gives up.
        .catch((error) => this.deps.log.debug("on-demand history request not sent", { backfill_id: job.id, error }))
        .finally(() => this.olderInFlight.delete(key));
    }
    return open === 0;
  }

  // ---- running ----------------------------------------------------------------------------

  private bucket(job: BackfillRow, now: number): TokenBucket {
    let bucket = this.buckets.get(job.id);
    // A tenth of a second of burst: the measured pace stays within a few percent of the rate.
    if (!bucket) this.buckets.set(job.id, (bucket = new TokenBucket(job.rate_per_s, now, 0.1)));
    else bucket.setRate(job.rate_per_s);
    return bucket;
  }

  private advance(job: BackfillRow): void {
    const { sqlite } = this.deps.store;
    const now = this.now();
    const hooks = this.hooksOf(job);
    if (!hooks.length) {
      this.end(job, "failed", "its webhooks were deleted");
      return;
    }
    const outcomes = backfillOutcomes(sqlite, job.id);
    const outstanding = outcomes.pending + outcomes.in_flight;
    if (job.exhausted) {
      if (outstanding === 0) this.end(job, "finished", null);
      return;
    }
    const bucket = this.bucket(job, now);
    let allowance = Math.min(bucket.available(now), windowOf(job.rate_per_s) - outstanding);
    if (allowance <= 0) return;

    const selection = selectionOf(job, job.max_rowid ?? 0);
    let cursor: Cursor | null = job.cursor_rowid === null ? null : { ts: job.cursor_ts!, rowid: job.cursor_rowid };
    let queued = 0;
    let mediaWoken = false;
    sqlite
      .transaction(() => {
        const candidates = nextCandidates(sqlite, selection, cursor, SCAN);
        let enqueued = 0;
        let skipped = 0;
        for (const c of candidates) {
          const event = triggerOf(c.direction);
          const takers = hooks.filter((h) => h.events.includes(event));
          const targets = job.redeliver ? takers : takers.filter((h) => !alreadyQueued(sqlite, h.id, c.rowid, event));
          if (targets.length && allowance <= 0) break;
          if (targets.length) {
            const media = wakeDeferredMedia(sqlite, c.rowid, now);
            if (media === "pending") mediaWoken = true;
            for (const h of targets) {
              enqueue(
                sqlite,
                {
                  webhookId: h.id,
                  ordering: h.ordering,
                  event,
                  accountId: job.account_id,
                  chatKey: c.chat_id,
                  messageRowid: c.rowid,
                  data: null,
                  priority: PRIORITY_BACKFILL,
                  // A message whose media is still downloading waits for it (bounded).
                  availableAt: media === "pending" ? now + this.deps.mediaHoldMs : now,
                  backfillId: job.id,
                },
                now,
              );
            }
            allowance--;
            bucket.take();
            queued++;
          }
          enqueued += targets.length;
          skipped += takers.length - targets.length;
          cursor = { ts: c.timestamp, rowid: c.rowid };
        }
        const exhausted = candidates.length < SCAN && (candidates.length === 0 || cursor?.rowid === candidates.at(-1)?.rowid);
        updateBackfill(
          sqlite,
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
    if (queued) this.deps.wakeDelivery();
    if (mediaWoken) this.deps.wakeMedia();
  }

  /** Ends a job: counts frozen, its webhooks told (those that subscribe to `backfill.finished`). */
  private end(job: BackfillRow, state: Extract<BackfillState, "finished" | "failed">, error: string | null): void {
    const ended = endBackfill(this.deps.store, job.id, [job.state], state, error, this.now());
    this.buckets.delete(job.id);
    this.lastOlderRequest.delete(job.id);
    if (ended) {
      this.deps.log.info(`backfill ${state}`, { backfill_id: job.id, error });
      this.deps.wakeDelivery();
    }
  }
}

/**
 * Moves a job to an end state in one transaction: outcome counts frozen into the row and a
 * `backfill.finished` event queued for each of its webhooks that subscribes to it.
 */
export function endBackfill(
  store: Store,
  id: string,
  from: BackfillState[],
  state: Extract<BackfillState, "finished" | "failed" | "cancelled">,
  error: string | null,
  now: number,
): BackfillRow | null {
  const { sqlite } = store;
  return sqlite
    .transaction(() => {
      const outcomes = backfillOutcomes(sqlite, id);
      const row = transitionBackfill(sqlite, id, from, state, { delivered: outcomes.delivered, failed: outcomes.failed, finished_at: now, error }, now);
      if (!row) return null;
      for (const h of webhookTargets(sqlite, JSON.parse(row.webhook_ids) as string[])) {
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
            data: finishedEventBody(row),
            priority: PRIORITY_BACKFILL,
          },
          now,
        );
      }
      return row;
    })
    .immediate();
}

function finishedEventBody(row: BackfillRow) {
  return {
    account_id: row.account_id,
    backfill: {
      id: row.id,
      state: row.state,
      total: row.total,
      enqueued: row.enqueued,
      skipped: row.skipped,
      delivered: row.delivered,
      failed: row.failed,
      started_at: row.started_at === null ? null : new Date(row.started_at).toISOString(),
      finished_at: row.finished_at === null ? null : new Date(row.finished_at).toISOString(),
      error: row.error,
    },
  };
}
