// Requests per second, as a token bucket: a burst of up to `burstS` seconds' worth (one by
// default), then a steady rate. Shared by delivery (per-endpoint limits) and backfills
// (their pace). Kept in memory: after a restart a bucket starts full, which can at most
// send one extra burst.
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private ratePerS: number,
    now: number,
    private readonly burstS = 1,
  ) {
    this.tokens = this.capacity();
    this.last = now;
  }

  private capacity(): number {
    return Math.max(1, this.ratePerS * this.burstS);
  }

  setRate(ratePerS: number): void {
    this.ratePerS = ratePerS;
  }

  private refill(now: number): void {
    this.tokens = Math.min(this.capacity(), this.tokens + ((now - this.last) / 1000) * this.ratePerS);
    this.last = now;
  }

  available(now: number): number {
    this.refill(now);
    return Math.floor(this.tokens);
  }

  take(n = 1): void {
    this.tokens -= n;
  }

  /** Milliseconds until one token is there. */
  waitMs(now: number): number {
    this.refill(now);
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) / this.ratePerS) * 1000);
  }
}
