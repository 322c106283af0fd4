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
