// How many deliveries each endpoint has in flight (max_concurrency) and may start per second
// (rate_limit_per_s). Cheap to lose: after a restart nothing is in flight (the leases are
// released) and a rate bucket starts full. Slots are taken only once a claim has committed
// and given back only once a result has, so a transaction that rolls back changes nothing
// here.
import type { SendingEndpoint } from "../store/endpoints.ts";
import { TokenBucket } from "../tokenBucket.ts";

export type SlotLimits = Pick<SendingEndpoint, "id" | "max_concurrency" | "rate_limit_per_s">;

/** What a committed claim gave one endpoint: the room it was offered and the rows it took. */
export interface Started {
  endpoint: SlotLimits;
  room: number;
  rows: { length: number };
}

export class EndpointSlots {
  private readonly inflight = new Map<string, number>();
  private readonly buckets = new Map<string, TokenBucket>();

  get inFlight(): number {
    let n = 0;
    for (const v of this.inflight.values()) n += v;
    return n;
  }

  /**
   * How many rows the endpoint may start at `now`: its free slots, counting `freeing` of
   * them as given back already (results that commit with this claim), within its rate.
   */
  room(endpoint: SlotLimits, now: number, freeing = 0): number {
    const free = endpoint.max_concurrency - this.held(endpoint.id) + freeing;
    if (free <= 0) return 0;
    const bucket = this.bucketFor(endpoint, now);
    return bucket ? Math.min(free, bucket.available(now)) : free;
  }

  /**
   * A claim committed: every row it took holds a slot (and a token) until released. Returns
   * the ms until a rate-limited endpoint that took all it was offered, with slots still
   * free, has a token again (it may have more rows due then), or null when none waits so.
   */
  started(claims: readonly Started[], now: number): number | null {
    let wake: number | null = null;
    for (const { endpoint, room, rows } of claims) {
      if (rows.length) this.inflight.set(endpoint.id, this.held(endpoint.id) + rows.length);
      const bucket = endpoint.rate_limit_per_s ? this.buckets.get(endpoint.id) : undefined;
      if (!bucket) continue;
      bucket.take(rows.length);
      // An endpoint held back by its slots is woken by the results that free them.
      if (rows.length === room && this.held(endpoint.id) < endpoint.max_concurrency) {
        const ms = Math.max(1, bucket.waitMs(now));
        wake = wake === null ? ms : Math.min(wake, ms);
      }
    }
    return wake;
  }

  /** An attempt's result committed: its slot is free. */
  release(endpointId: string): void {
    const left = this.held(endpointId) - 1;
    if (left > 0) this.inflight.set(endpointId, left);
    else this.inflight.delete(endpointId);
  }

  private held(endpointId: string): number {
    return this.inflight.get(endpointId) ?? 0;
  }

  private bucketFor(endpoint: SlotLimits, now: number): TokenBucket | null {
    if (!endpoint.rate_limit_per_s) {
      this.buckets.delete(endpoint.id);
      return null;
    }
    let bucket = this.buckets.get(endpoint.id);
    if (!bucket) this.buckets.set(endpoint.id, (bucket = new TokenBucket(endpoint.rate_limit_per_s, now)));
    else bucket.setRate(endpoint.rate_limit_per_s);
    return bucket;
  }
}
