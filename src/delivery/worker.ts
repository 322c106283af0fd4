// The delivery scheduler: claims due rows, sends them, hands the answers to the store. The
// rows are the queue and store/attempts.ts runs every transaction; this class holds only
// what is cheap to lose: the endpoints' slots and rate buckets (slots.ts) and the answers
// waiting for their commit. A wake-up runs one synchronous claim pass (bun:sqlite is
// synchronous), so two passes never interleave.
import type { AllowTargets } from "../config.ts";
import type { DeliveredEventType, Message } from "../domain.ts";
import type { Logger } from "../log.ts";
import { claimDue, recordAnswers, type AttemptAnswer, type ClaimRequest, type EndpointClaim } from "../store/attempts.ts";
import type { Store } from "../store/db.ts";
import type { SendingEndpoint } from "../store/endpoints.ts";
import { getMessage } from "../store/messages.ts";
import { releaseAllLeases, type ClaimedRow } from "../store/outbox.ts";
import type { DeliveryMetrics } from "./metrics.ts";
import { deliveryBody } from "./payload.ts";
import { blamesEndpoint, decide, errorClassOf, longFailing } from "./policy.ts";
import { sendAttempt, type SendOutcome, type Timeouts } from "./send.ts";
import { signatureHeaders } from "./sign.ts";
import { EndpointSlots } from "./slots.ts";
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

/** An attempt whose answer is in, waiting for the commit that records it. */
interface Finished {
  answer: AttemptAnswer;
  /** Failed attempts to record it (the database refused writes). */
  tries: number;
}

export class DeliveryWorker {
  private readonly slots = new EndpointSlots();
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
    const released = releaseAllLeases(this.deps.store);
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
    return this.slots.inFlight;
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
    const now = this.now();
    let claims: EndpointClaim[];
    try {
      claims = claimDue(this.deps.store, this.claimRequest(now));
    } catch (error) {
      // Nothing was claimed (rolled back); the rows wait for the next pass.
      this.deps.onDbError?.(error);
      if (!this.claimFailing) this.deps.log.error("could not claim deliveries; trying again", { error });
      this.claimFailing = true;
      this.wakeIn(DB_RETRY_MS);
      return;
    }
    this.claimFailing = false;
    this.startAll(claims, now);
  };

  /** A claim of what each endpoint has room for; `freeing`: slots whose results commit with it. */
  private claimRequest(now: number, freeing?: ReadonlyMap<string, number>): ClaimRequest {
    return { now, leaseMs: LEASE_MS, room: (endpoint) => this.slots.room(endpoint, now, freeing?.get(endpoint.id)) };
  }

  /** The claim committed: its rows take their slots and go out. */
  private startAll(claims: EndpointClaim[], now: number): void {
    const wait = this.slots.started(claims, now);
    if (wait !== null) this.wakeIn(wait);
    for (const { endpoint, rows } of claims) for (const row of rows) void this.deliver(endpoint, row);
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

  private async deliver(endpoint: SendingEndpoint, row: ClaimedRow): Promise<void> {
    const startedAt = this.now();
    let sent: SendOutcome;
    try {
      sent = await this.send(endpoint, row, startedAt);
    } catch (error) {
      // Our own failure (a bug), not the receiver's: the row is retried as after any failed
      // attempt, and the endpoint is not blamed for it.
      this.deps.log.error("a delivery attempt failed on our side; recorded as internal, not held against the endpoint", { outbox_id: row.id, webhook_id: endpoint.id, error });
      sent = { result: { kind: "error", errorClass: "internal" }, durationMs: 0, statusCode: null, error: `internal: ${(error as Error).message}`, excerpt: null };
    }
    const now = this.now();
    const schedule = endpoint.retry_schedule ? (JSON.parse(endpoint.retry_schedule) as number[]) : undefined;
    const outcome = decide(sent.result, { attempt: row.attempts, now, schedule, random: this.deps.random });
    const answer: AttemptAnswer = {
      row,
      startedAt,
      durationMs: sent.durationMs,
      statusCode: sent.statusCode,
      errorClass: errorClassOf(sent.result),
      error: sent.error,
      responseExcerpt: sent.excerpt,
      outcome,
      blamesEndpoint: blamesEndpoint(sent.result),
      now,
    };
    this.finished.push({ answer, tries: 0 });
    if (this.finished.length === 1) setImmediate(this.recordFinished);
  }

  /** Builds, signs and sends one attempt. */
  private async send(endpoint: SendingEndpoint, row: ClaimedRow, startedAt: number): Promise<SendOutcome> {
    const body = deliveryBody({
      event: row.event as DeliveredEventType,
      seq: row.seq,
      data: row.data,
      stored: row.message_rowid === null ? null : getMessage(this.deps.store, row.message_rowid),
      backfill: row.backfill_id !== null,
      format: endpoint.format,
      contact: this.deps.accountInfo,
      fileUrl: (message) => this.deps.fileUrl(message, row.message_rowid, row.created_at),
    });
    const secrets = [endpoint.secret];
    if (endpoint.previous_secret && (endpoint.previous_secret_until ?? 0) > startedAt) secrets.push(endpoint.previous_secret);
    const headers = signatureHeaders({ id: row.id, timestamp: Math.floor(startedAt / 1000), body, secrets, userAgent: this.deps.userAgent });
    return sendAttempt({ url: endpoint.url, body, headers, allow: this.deps.allow, timeouts: this.deps.timeouts, lookup: this.deps.lookup });
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
    const now = this.now();
    let claims: EndpointClaim[] = [];
    let recorded = batch;
    try {
      // The same commit claims the rows that may go next (the chats' next events): one
      // commit per turn instead of two.
      const next = this.running ? this.claimRequest(now, slotsOf(batch)) : null;
      claims = recordAnswers(this.deps.store, batch.map((f) => f.answer), longFailing, next);
    } catch {
      // Rolled back: nothing was recorded or claimed. One row that cannot be recorded must
      // not cost the others their results.
      recorded = this.recordEach(batch);
    }
    for (const { answer } of recorded) {
      const { row, outcome } = answer;
      this.slots.release(row.webhook_id);
      this.deps.metrics?.attempt(row.webhook_id, outcome.action, answer.durationMs);
      if (outcome.action === "retry") this.wakeIn(outcome.at - answer.now);
      else if (outcome.action === "pause_endpoint") this.wakeIn(outcome.retryAt - answer.now);
    }
    this.startAll(claims, now);
    if (this.idle && this.inFlight === 0) this.idle();
  };

  /** Records each answer in a transaction of its own; returns those done with (recorded or given up). */
  private recordEach(batch: Finished[]): Finished[] {
    const done: Finished[] = [];
    const again: Finished[] = [];
    for (const f of batch) {
      try {
        recordAnswers(this.deps.store, [f.answer], longFailing, null);
        done.push(f);
      } catch (error) {
        f.tries++;
        this.deps.onDbError?.(error);
        if (f.tries === 1) this.deps.log.error("could not record a delivery attempt; trying again", { outbox_id: f.answer.row.id, error });
        // The answer is known: record it when the database takes writes again, rather
        // than send it twice. A row that still cannot be recorded after the lease's time
        // gives its slot back; the lease runs out and it is sent again (same webhook-id).
        if (f.tries * DB_RETRY_MS < LEASE_MS) again.push(f);
        else done.push(f);
      }
    }
    if (again.length) {
      this.finished.unshift(...again);
      setTimeout(this.recordFinished, DB_RETRY_MS);
    }
    return done;
  }
}

/** Slots per endpoint that a batch of answers frees. */
function slotsOf(batch: readonly Finished[]): Map<string, number> {
  const freeing = new Map<string, number>();
  for (const { answer } of batch) freeing.set(answer.row.webhook_id, (freeing.get(answer.row.webhook_id) ?? 0) + 1);
  return freeing;
}
