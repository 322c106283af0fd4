// What delivery learns about a webhook's endpoint and acts on: whether it may be sent to
// now, its run of failures (failing_since), the pause a throttling receiver asks for and
// disabling. These columns of `webhooks` are written here only; store/webhooks.ts writes
// what an admin sets. Webhooks are few, so these statements scan the table or use its
// primary key; no index serves them.
import type { Store } from "./db.ts";
import type { RawRow } from "./rows.ts";
import type { webhooks } from "./schema.ts";

/** What sending to an endpoint needs of its webhook. */
export type SendingEndpoint = Pick<
  RawRow<typeof webhooks>,
  "id" | "url" | "format" | "max_concurrency" | "rate_limit_per_s" | "retry_schedule" | "secret" | "previous_secret" | "previous_secret_until"
>;

/** Endpoints failing since `since` or earlier are disabled, with `reason` (delivery/policy.ts). */
export interface FailingCutoff {
  since: number;
  reason: string;
}

/** The endpoints that may be sent to at `now`: enabled and not paused. */
export function sendableEndpoints(store: Store, now: number): SendingEndpoint[] {
  return store.sqlite
    .query<SendingEndpoint, [number]>(
      `SELECT id, url, format, max_concurrency, rate_limit_per_s, retry_schedule, secret, previous_secret, previous_secret_until
       FROM webhooks WHERE enabled = 1 AND (paused_until IS NULL OR paused_until <= ?)`,
    )
    .all(now);
}

/** A delivered attempt ends the endpoint's run of failures (a healthy endpoint is not written). */
export function endFailingRun(store: Store, id: string): void {
  store.sqlite.query("UPDATE webhooks SET failing_since = NULL WHERE id = ? AND failing_since IS NOT NULL").run(id);
}

/**
 * A failed attempt starts the endpoint's run of failures, unless one is running; an endpoint
 * whose run is older than the cutoff is disabled at once rather than at the next sweep.
 */
export function endpointFailed(store: Store, id: string, now: number, cutoff: FailingCutoff): void {
  store.sqlite.query("UPDATE webhooks SET failing_since = COALESCE(failing_since, ?) WHERE id = ?").run(now, id);
  disableFailingSince(store, cutoff, now, id);
}

/** A receiver's Retry-After: nothing is sent to it before `until`. */
export function pauseEndpoint(store: Store, id: string, until: number): void {
  store.sqlite.query("UPDATE webhooks SET paused_until = ? WHERE id = ?").run(until, id);
}

/** Disabled by what the endpoint answered; one disabled already keeps its first reason. */
export function disableEndpoint(store: Store, id: string, reason: string, now: number): void {
  store.sqlite.query("UPDATE webhooks SET enabled = 0, disabled_reason = ?, disabled_at = ?, updated_at = ? WHERE id = ? AND enabled = 1").run(reason, now, now, id);
}

/** Disables the enabled endpoints (all, or the one `id`) failing since the cutoff or earlier; returns how many. */
export function disableFailingSince(store: Store, cutoff: FailingCutoff, now: number, id?: string): number {
  return store.sqlite
    .query(
      `UPDATE webhooks SET enabled = 0, disabled_reason = ?, disabled_at = ?, updated_at = ?
       WHERE enabled = 1 AND failing_since IS NOT NULL AND failing_since <= ? AND (? IS NULL OR id = ?)`,
    )
    .run(cutoff.reason, now, now, cutoff.since, id ?? null, id ?? null).changes;
}
