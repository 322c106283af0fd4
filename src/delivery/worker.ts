// Claims due rows, sends them, records the answer. The rows are the queue; this class
// only holds what is cheap to lose: how many requests are in flight per endpoint and
// the rate-limit buckets. A wake-up runs one synchronous claim pass (bun:sqlite is
// synchronous), so two passes never interleave.
import type { AllowTargets } from "../config.ts";
import type { DeliveredEventType, Message, PayloadFormat } from "../domain.ts";
import type { Logger } from "../log.ts";
import type { Store } from "../store/db.ts";
import { getMessage } from "../store/messages.ts";
import { claim, finishRow, recordAttempt, releaseAllLeases, requeueRow, type ClaimedRow } from "../store/outbox.ts";
import type { DeliveryMetrics } from "./metrics.ts";
import { buildPayload } from "./payload.ts";
import { AUTO_DISABLE_AFTER_MS, decide, type Outcome } from "./policy.ts";
import { TokenBucket } from "../tokenBucket.ts";
import { sendAttempt, type SendOutcome, type Timeouts } from "./send.ts";
import { signatureHeaders } from "./sign.ts";
import type { Lookup } from "./target.ts";

/** Longer than any attempt can take (15 s), so a live attempt never loses its lease. */
export const LEASE_MS = 60_000;
/** When the database refuses a claim or a result, it is tried again this soon. */
const DB_RETRY_MS = 200;

export interface WorkerDeps {
  store: Store;
  log: Logger;
  allow: AllowTargets;
  userAgent: string;
  /** The linked account's own phone and e-mail (user_phone / user_email). */
  accountInfo(accountId: string): { phone: string | null; email: string | null };
  /**
   * Download link of a stored message's media, or null (none, too large, failed). `queuedAt`
   * (the delivery's creation) fixes the link's expiry, so every attempt sends the same bytes.
   */
  fileUrl(message: Message, messageRowid: number | null, queuedAt: number): string | null;
  metrics?: DeliveryMetrics;
  /** Told of every write the database refused (a full disk shows in /health). */
  onDbError?(error: unknown): void;
  timeouts?: Timeouts;
  lookup?: Lookup;
  random?: () => number;
  now?: () => number;
}

interface EndpointRow {
  id: string;
  url: string;
  format: PayloadFormat;
  max_concurrency: number;
  rate_limit_per_s: number | null;
  retry_schedule: string | null;
  secret: string;
  previous_secret: string | null;
  previous_secret_until: number | null;
}

/** An attempt whose answer is in, waiting for the commit that records it. */
interface Finished {
  endpoint: EndpointRow;
  row: ClaimedRow;
  sent: SendOutcome;
  outcome: Outcome;
  startedAt: number;
  now: number;
  /** Failed attempts to record it (the database refused writes). */
  tries?: number;
}

export class DeliveryWorker {
  private readonly inflight = new Map<string, number>();
  private readonly buckets = new Map<string, TokenBucket>();
  private scheduled = false;
  private running = false;
  private closed = false;
  /** The last claim failed (its error is logged once per streak, not every retry). */
  private claimFailing = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private timerAt = 0;
  private idle: (() => void) | null = null;
  private finished: Finished[] = [];
  private readonly now: () => number;

  constructor(private readonly deps: WorkerDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** Rows left in flight by a previous process go back to the queue, then work starts. */
  start(): void {
    const released = releaseAllLeases(this.deps.store.sqlite);
    if (released) this.deps.log.info("requeued deliveries left in flight by the previous run", { count: released });
    this.running = true;
    this.closed = false;
    this.wake();
  }

  /**
   * Coalesces wake-ups into one claim pass. setImmediate, not a microtask: when attempts
   * fail without touching the network (a blocked address, a refused port), a microtask
   * loop would run through the whole queue without ever yielding to the HTTP server.
   */
  wake = (): void => {
    if (!this.running || this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.pump);
  };

  get inFlight(): number {
    let n = 0;
    for (const v of this.inflight.values()) n += v;
    return n;
  }

  /** Stops claiming; waits (bounded) for attempts in flight. Unfinished rows are requeued at the next start. */
  async stop(graceMs: number): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    if (this.inFlight > 0) await Promise.race([new Promise<void>((resolve) => (this.idle = resolve)), Bun.sleep(graceMs)]);
    // Answers that come later are not recorded (the store is about to close): their rows
    // stay in flight and the next start requeues them (unless started again meanwhile).
    if (!this.running) this.closed = true;
  }

  private pump = (): void => {
    this.scheduled = false;
    if (!this.running) return;
    let claimed: { endpoint: EndpointRow; row: ClaimedRow }[];
    try {
      claimed = this.slotsFollow(() => this.deps.store.sqlite.transaction(() => this.claimDue(this.now())).immediate());
    } catch (error) {
      // Nothing was claimed (rolled back); the rows wait for the next pass.
      this.deps.onDbError?.(error);
      if (!this.claimFailing) this.deps.log.error("could not claim deliveries; trying again", { error });
      this.claimFailing = true;
      this.wakeIn(DB_RETRY_MS);
      return;
    }
    this.claimFailing = false;
    this.startAll(claimed);
  };

  /**
   * Claims what each endpoint has room for (concurrency, rate limit), inside the caller's
   * transaction; the rows are started only after it commits.
   */
  private claimDue(now: number): { endpoint: EndpointRow; row: ClaimedRow }[] {
    const { sqlite } = this.deps.store;
    const endpoints = sqlite
      .query<EndpointRow, [number]>(
        `SELECT id, url, format, max_concurrency, rate_limit_per_s, retry_schedule, secret, previous_secret, previous_secret_until
         FROM webhooks WHERE enabled = 1 AND (paused_until IS NULL OR paused_until <= ?)`,
      )
      .all(now);
    const claimed: { endpoint: EndpointRow; row: ClaimedRow }[] = [];
    let nextWake = Infinity;
    for (const endpoint of endpoints) {
      let room = endpoint.max_concurrency - (this.inflight.get(endpoint.id) ?? 0);
      if (room <= 0) continue;
      const bucket = this.bucketFor(endpoint, now);
      if (bucket) {
        room = Math.min(room, bucket.available(now));
        if (room <= 0) {
          nextWake = Math.min(nextWake, bucket.waitMs(now));
          continue;
        }
      }
      const rows = claim(sqlite, endpoint.id, room, now, LEASE_MS);
      if (bucket && rows.length === room) nextWake = Math.min(nextWake, bucket.waitMs(now) || 1);
      for (const row of rows) {
        bucket?.take();
        // Counted at once: the slot is taken from the claim on, also across a failed commit.
        this.inflight.set(endpoint.id, (this.inflight.get(endpoint.id) ?? 0) + 1);
        claimed.push({ endpoint, row });
      }
    }
    if (nextWake !== Infinity) this.wakeIn(nextWake);
    return claimed;
  }

  private startAll(claimed: { endpoint: EndpointRow; row: ClaimedRow }[]): void {
    for (const { endpoint, row } of claimed) void this.deliver(endpoint, row);
  }

  /**
   * A timer for the next near event (rate-limit token, a retry due in seconds); the sweep
   * job finds everything else within a second, also after a restart.
   */
  private wakeIn(ms: number): void {
    if (!this.running || ms > 60_000) return;
    const at = this.now() + Math.max(1, ms);
    if (this.timer && this.timerAt <= at && this.timerAt > this.now()) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.wake();
    }, Math.max(1, ms));
  }

  private bucketFor(endpoint: EndpointRow, now: number): TokenBucket | null {
    if (!endpoint.rate_limit_per_s) {
      this.buckets.delete(endpoint.id);
      return null;
    }
    let bucket = this.buckets.get(endpoint.id);
    if (!bucket) this.buckets.set(endpoint.id, (bucket = new TokenBucket(endpoint.rate_limit_per_s, now)));
    else bucket.setRate(endpoint.rate_limit_per_s);
    return bucket;
  }

  private bodyOf(endpoint: EndpointRow, row: ClaimedRow): string {
    const event = row.event as DeliveredEventType;
    let message: Message | null = null;
    if (row.message_rowid !== null) message = getMessage(this.deps.store.sqlite, row.message_rowid);
    // A backfill sends stored messages as history, also those that once arrived live.
    if (message && row.backfill_id !== null) message = { ...message, history: true };
    else if (event === "webhook.test" && row.data) message = JSON.parse(row.data) as Message;
    if (!message) {
      // Events that are not about one message carry their body parts in the row.
      return JSON.stringify({ event, ...(row.data ? (JSON.parse(row.data) as object) : {}), seq: row.seq });
    }
    const account = message.accountId ? this.deps.accountInfo(message.accountId) : { phone: null, email: null };
    const payload = buildPayload({
      event,
      message,
      seq: row.seq,
      format: endpoint.format,
      account: { id: message.accountId || null, ...account },
      fileUrl: message.media ? this.deps.fileUrl(message, row.message_rowid, row.created_at) : null,
    });
    return JSON.stringify(payload);
  }

  private async deliver(endpoint: EndpointRow, row: ClaimedRow): Promise<void> {
    const startedAt = this.now();
    let sent: SendOutcome;
    try {
      const body = this.bodyOf(endpoint, row);
      const secrets = [endpoint.secret];
      if (endpoint.previous_secret && (endpoint.previous_secret_until ?? 0) > startedAt) secrets.push(endpoint.previous_secret);
      const headers = signatureHeaders({ id: row.id, timestamp: Math.floor(startedAt / 1000), body, secrets, userAgent: this.deps.userAgent });
      sent = await sendAttempt({ url: endpoint.url, body, headers, allow: this.deps.allow, timeouts: this.deps.timeouts, lookup: this.deps.lookup });
    } catch (error) {
      // A bug on our side must not lose the row: count it as a failed attempt.
      this.deps.log.error("delivery attempt failed before sending", { outbox_id: row.id, error });
      sent = { result: { kind: "error", errorClass: "network" }, durationMs: 0, statusCode: null, error: `internal: ${(error as Error).message}`, excerpt: null };
    }
    const now = this.now();
    const schedule = endpoint.retry_schedule ? (JSON.parse(endpoint.retry_schedule) as number[]) : undefined;
    const outcome = decide(sent.result, { attempt: row.attempts, now, schedule, random: this.deps.random });
    this.finished.push({ endpoint, row, sent, outcome, startedAt, now });
    if (this.finished.length === 1) setImmediate(this.recordFinished);
  }

  /**
   * Group commit: the attempts whose answers came in during one event-loop turn are
   * recorded in one transaction, so the fsync of a durable commit is paid per batch, not
   * per delivery (it was most of the cost of a delivery). A row keeps its lease and its
   * slot until its result is committed; a crash in between resends it with the same
   * webhook-id, as a crash just before a per-row commit did.
   */
  private recordFinished = (): void => {
    const batch = this.finished;
    this.finished = [];
    if (this.closed || batch.length === 0) return;
    const { sqlite } = this.deps.store;
    const release = (done: Finished[]) => {
      for (const { endpoint } of done) {
        const left = (this.inflight.get(endpoint.id) ?? 1) - 1;
        if (left > 0) this.inflight.set(endpoint.id, left);
        else this.inflight.delete(endpoint.id);
      }
    };
    let next: { endpoint: EndpointRow; row: ClaimedRow }[] = [];
    let recorded = batch;
    try {
      // The same commit records the answers and claims the rows that may go next (the
      // chats' next events): one commit per turn instead of two.
      next = this.slotsFollow(() =>
        sqlite
          .transaction(() => {
            batch.forEach((f) => this.record(f));
            release(batch);
            return this.running ? this.claimDue(this.now()) : [];
          })
          .immediate(),
      );
    } catch {
      // Rolled back: nothing was released or claimed after all.
      // One row that cannot be recorded must not cost the others their results.
      recorded = [];
      const again: Finished[] = [];
      for (const f of batch) {
        try {
          sqlite.transaction(() => this.record(f)).immediate();
          recorded.push(f);
        } catch (error) {
          f.tries = (f.tries ?? 0) + 1;
          this.deps.onDbError?.(error);
          if (f.tries === 1) this.deps.log.error("could not record a delivery attempt; trying again", { outbox_id: f.row.id, error });
          // The answer is known: record it when the database takes writes again, rather
          // than send it twice. A row that still cannot be recorded after the lease's time
          // gives its slot back; the lease runs out and it is sent again (same webhook-id).
          if (f.tries * DB_RETRY_MS < LEASE_MS) again.push(f);
          else recorded.push(f);
        }
      }
      release(recorded);
      if (again.length) {
        this.finished.unshift(...again);
        setTimeout(this.recordFinished, DB_RETRY_MS);
      }
    }
    for (const { endpoint, sent, outcome, now } of recorded) {
      this.deps.metrics?.attempt(endpoint.id, outcome.action, sent.durationMs);
      if (outcome.action === "retry") this.wakeIn(outcome.at - now);
      else if (outcome.action === "pause_endpoint") this.wakeIn(outcome.retryAt - now);
    }
    this.startAll(next);
    if (this.idle && this.inFlight === 0) this.idle();
  };

  /**
   * Runs a transaction that takes or gives back endpoint slots (`inflight`) as it goes; if
   * it throws, it was rolled back, and so are the slots.
   */
  private slotsFollow<T>(transaction: () => T): T {
    const before = new Map(this.inflight);
    try {
      return transaction();
    } catch (error) {
      this.inflight.clear();
      for (const [id, n] of before) this.inflight.set(id, n);
      throw error;
    }
  }

  /** Inside the caller's transaction: the attempt row, the outbox row's new state, the endpoint's state. */
  private record({ endpoint, row, sent, outcome, startedAt, now }: Finished): void {
    const { sqlite } = this.deps.store;
    recordAttempt(sqlite, {
      outboxId: row.id,
      webhookId: endpoint.id,
      attempt: row.attempts,
      startedAt,
      durationMs: sent.durationMs,
      statusCode: sent.statusCode,
      errorClass: sent.result.kind === "error" ? sent.result.errorClass : sent.statusCode !== null && (sent.statusCode < 200 || sent.statusCode > 299) ? "http" : null,
      error: sent.error,
      responseExcerpt: sent.excerpt,
      outcome: outcome.action,
    });
    switch (outcome.action) {
      case "delivered":
        finishRow(sqlite, row, "delivered", now, sent.statusCode, null);
        sqlite.query("UPDATE webhooks SET failing_since = NULL WHERE id = ? AND failing_since IS NOT NULL").run(endpoint.id);
        return;
      case "dead":
        finishRow(sqlite, row, "failed", now, sent.statusCode, sent.error);
        break;
      case "retry":
        requeueRow(sqlite, row.id, outcome.at, sent.statusCode, sent.error);
        break;
      case "pause_endpoint":
        // Throttling is not a failure of this event: it keeps its place in the schedule.
        requeueRow(sqlite, row.id, outcome.retryAt, sent.statusCode, sent.error);
        sqlite.query("UPDATE outbox SET attempts = attempts - 1 WHERE id = ?").run(row.id);
        sqlite.query("UPDATE webhooks SET paused_until = ? WHERE id = ?").run(outcome.until, endpoint.id);
        break;
      case "disable_endpoint":
        requeueRow(sqlite, row.id, now, sent.statusCode, sent.error);
        disableEndpoint(sqlite, endpoint.id, outcome.reason, now);
        break;
    }
    sqlite.query("UPDATE webhooks SET failing_since = COALESCE(failing_since, ?) WHERE id = ?").run(now, endpoint.id);
    disableLongFailing(sqlite, now, endpoint.id);
  }
}

function disableEndpoint(sqlite: Store["sqlite"], id: string, reason: string, now: number): void {
  sqlite.query("UPDATE webhooks SET enabled = 0, disabled_reason = ?, disabled_at = ?, updated_at = ? WHERE id = ? AND enabled = 1").run(reason, now, now, id);
}

export const LONG_FAILING_REASON = "every attempt failed for 5 days";

/** Endpoints (one, or all) whose every attempt failed for 5 days are disabled. */
export function disableLongFailing(sqlite: Store["sqlite"], now: number, id?: string): number {
  return sqlite
    .query(
      `UPDATE webhooks SET enabled = 0, disabled_reason = ?, disabled_at = ?, updated_at = ?
       WHERE enabled = 1 AND failing_since IS NOT NULL AND failing_since <= ? AND (? IS NULL OR id = ?)`,
    )
    .run(LONG_FAILING_REASON, now, now, now - AUTO_DISABLE_AFTER_MS, id ?? null, id ?? null).changes;
}
