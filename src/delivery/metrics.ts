// In-process counters for /metrics. Queue depths are not kept here: they are read from
// the rows at scrape time, so they are right after a restart too.
export const DURATION_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15];

export class DeliveryMetrics {
  /** `${webhookId}\u0000${outcome}` → count */
  readonly outcomes = new Map<string, number>();
  readonly durationCounts = new Array<number>(DURATION_BUCKETS_S.length).fill(0);
  durationSum = 0;
  durationCount = 0;
  /** account id → messages stored */
  readonly ingested = new Map<string, number>();

  attempt(webhookId: string, outcome: string, durationMs: number): void {
    const key = `${webhookId}\u0000${outcome}`;
    this.outcomes.set(key, (this.outcomes.get(key) ?? 0) + 1);
    const s = durationMs / 1000;
    for (let i = 0; i < DURATION_BUCKETS_S.length; i++) if (s <= DURATION_BUCKETS_S[i]!) this.durationCounts[i]!++;
    this.durationSum += s;
    this.durationCount++;
  }

  message(accountId: string): void {
    this.ingested.set(accountId, (this.ingested.get(accountId) ?? 0) + 1);
  }
}

const esc = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

/**
 * Prometheus text format. Counters come from this process; queue depths and ages are
 * read from the rows at scrape time.
 */
export function renderPrometheus(m: DeliveryMetrics, depths: QueueDepth[], now: number, wal?: { running: boolean; framesCheckpointed: number }): string {
  const out: string[] = [];
  out.push("# HELP wahook_deliveries_total Delivery attempts by webhook and outcome.", "# TYPE wahook_deliveries_total counter");
  for (const [key, n] of m.outcomes) {
    const [webhook, outcome] = key.split("\u0000") as [string, string];
    out.push(`wahook_deliveries_total{webhook_id="${esc(webhook)}",outcome="${esc(outcome)}"} ${n}`);
  }
  out.push("# HELP wahook_delivery_attempt_duration_seconds Duration of one HTTP attempt.", "# TYPE wahook_delivery_attempt_duration_seconds histogram");
  DURATION_BUCKETS_S.forEach((le, i) => out.push(`wahook_delivery_attempt_duration_seconds_bucket{le="${le}"} ${m.durationCounts[i]}`));
  out.push(`wahook_delivery_attempt_duration_seconds_bucket{le="+Inf"} ${m.durationCount}`);
  out.push(`wahook_delivery_attempt_duration_seconds_sum ${m.durationSum}`, `wahook_delivery_attempt_duration_seconds_count ${m.durationCount}`);
  out.push("# HELP wahook_queue_depth Deliveries by webhook and state (failed = dead letters).", "# TYPE wahook_queue_depth gauge");
  for (const d of depths) out.push(`wahook_queue_depth{webhook_id="${esc(d.webhook_id)}",status="${d.status}"} ${d.n}`);
  out.push("# HELP wahook_queue_oldest_pending_age_seconds Age of the oldest undelivered event per webhook.", "# TYPE wahook_queue_oldest_pending_age_seconds gauge");
  const oldest = new Map<string, number>();
  for (const d of depths) {
    if (d.status === "failed" || d.oldest === null) continue;
    oldest.set(d.webhook_id, Math.min(oldest.get(d.webhook_id) ?? Infinity, d.oldest));
  }
  for (const [webhook, t] of oldest) out.push(`wahook_queue_oldest_pending_age_seconds{webhook_id="${esc(webhook)}"} ${Math.max(0, now - t) / 1000}`);
  out.push("# HELP wahook_messages_ingested_total Messages stored, by account.", "# TYPE wahook_messages_ingested_total counter");
  for (const [account, n] of m.ingested) out.push(`wahook_messages_ingested_total{account_id="${esc(account)}"} ${n}`);
  if (wal) {
    out.push("# HELP wahook_wal_checkpoint_frames_total WAL pages copied into the database file by the checkpoint thread.", "# TYPE wahook_wal_checkpoint_frames_total counter");
    out.push(`wahook_wal_checkpoint_frames_total ${wal.framesCheckpointed}`);
    out.push("# HELP wahook_wal_checkpoint_thread 1 while the checkpoint thread runs (it runs while the database is being written).", "# TYPE wahook_wal_checkpoint_thread gauge");
    out.push(`wahook_wal_checkpoint_thread ${wal.running ? 1 : 0}`);
  }
  return out.join("\n") + "\n";
}

export interface QueueDepth {
  webhook_id: string;
  status: string;
  n: number;
  oldest: number | null;
}
