// Running jobs queue their next messages at their pace: a token bucket per job for the
// rate, and a small window of queued-but-undelivered rows, so live messages never wait
// behind a history flood and a crash leaves little in flight.
import { backfillOutcomes, type BackfillRow } from "../store/backfills.ts";
import { queueBackfillBatch } from "../store/backfillBatch.ts";
import type { Store } from "../store/db.ts";
import { PRIORITY_BACKFILL } from "../store/outbox.ts";
import type { WebhookTarget } from "../store/webhooks.ts";
import { TokenBucket } from "../tokenBucket.ts";

/** Candidates looked at per job and tick (skips of already-sent messages are cheap). */
const SCAN = 500;

/** The window of rows a job may have queued and not yet delivered. */
export function windowOf(ratePerS: number): number {
  return Math.max(2, Math.ceil(ratePerS / 2));
}

export interface PacerDeps {
  store: Store;
  wakeDelivery(): void;
  wakeMedia(): void;
  /** How long a delivery may wait for its media download. */
  mediaHoldMs: number;
}

export class Pacer {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(private readonly deps: PacerDeps) {}

  /**
   * Queues what the job's pace and window allow now. Returns "done" once every selected
   * message is handled and delivered (or dead-lettered): the job can finish.
   */
  advance(job: BackfillRow, hooks: WebhookTarget[], now: number): "done" | "running" {
    const outcomes = backfillOutcomes(this.deps.store, job.id);
    const outstanding = outcomes.pending + outcomes.in_flight;
    if (job.exhausted) return outstanding === 0 ? "done" : "running";
    const bucket = this.bucket(job, now);
    const allowance = Math.min(bucket.available(now), windowOf(job.rate_per_s) - outstanding);
    if (allowance <= 0) return "running";
    const batch = queueBackfillBatch(this.deps.store, job, { hooks, allowance, scan: SCAN, priority: PRIORITY_BACKFILL, mediaHoldMs: this.deps.mediaHoldMs, now });
    bucket.take(batch.queued);
    if (batch.queued) this.deps.wakeDelivery();
    if (batch.mediaWoken) this.deps.wakeMedia();
    return "running";
  }

  /** The job ended: its bucket goes. */
  forget(id: string): void {
    this.buckets.delete(id);
  }

  private bucket(job: BackfillRow, now: number): TokenBucket {
    let bucket = this.buckets.get(job.id);
    // A tenth of a second of burst: the measured pace stays within a few percent of the rate.
    if (!bucket) this.buckets.set(job.id, (bucket = new TokenBucket(job.rate_per_s, now, 0.1)));
    else bucket.setRate(job.rate_per_s);
    return bucket;
  }
}
