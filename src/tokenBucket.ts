// Requests per second per endpoint, as a token bucket: a burst of up to one second's
// worth, then a steady rate. Kept in memory: after a restart a limit starts full, which
// can at most send one extra second's worth.
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private ratePerS: number,
    now: number,
  ) {
    this.tokens = Math.max(1, ratePerS);
    this.last = now;
  }

  setRate(ratePerS: number): void {
    this.ratePerS = ratePerS;
  }

  private refill(now: number): void {
    const capacity = Math.max(1, this.ratePerS);
    this.tokens = Math.min(capacity, this.tokens + ((now - this.last) / 1000) * this.ratePerS);
    this.last = now;
  }

  available(now: number): number {
    this.refill(now);
    return Math.floor(this.tokens);
  }

  take(): void {
    this.tokens -= 1;
  }

  /** Milliseconds until one token is there. */
  waitMs(now: number): number {
    this.refill(now);
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) / this.ratePerS) * 1000);
  }
}
