// The delivery worker's transactions: a claim pass (due rows of every endpoint that may be
// sent to, leased) and the recording of a batch of answers, which claims what may go next in
// the same commit (one commit per event-loop turn instead of two). Each is IMMEDIATE: the
// write lock is taken at BEGIN, so a transaction that reads first cannot fail later on
// upgrading its lock.
import type { AttemptOutcome } from "../domain.ts";
import type { Store } from "./db.ts";
import { disableEndpoint, endFailingRun, endpointFailed, pauseEndpoint, sendableEndpoints, type FailingCutoff, type SendingEndpoint } from "./endpoints.ts";
import { claim, finishRow, recordAttempt, refundAttempt, requeueRow, type AttemptRecord, type ClaimedRow } from "./outbox.ts";

export interface ClaimRequest {
  now: number;
  leaseMs: number;
  /** How many rows this endpoint may start now (its free slots, its rate limit). */
  room(endpoint: SendingEndpoint): number;
}

/** One endpoint's share of a claim pass: the room it was given and the rows it got. */
export interface EndpointClaim {
  endpoint: SendingEndpoint;
  room: number;
  rows: ClaimedRow[];
}

/** An attempt's answer, as the worker hands it over to be recorded. */
export type AttemptAnswer = Omit<AttemptRecord, "outboxId" | "webhookId" | "attempt" | "outcome"> & {
  row: ClaimedRow;
  outcome: AttemptOutcome;
  /** Whether the answer tells about the endpoint's health: not when the failure was ours. */
  blamesEndpoint: boolean;
  /** When the answer came in. */
  now: number;
};

/** Claims, in one transaction, what each endpoint that may be sent to has room for. */
export function claimDue(store: Store, request: ClaimRequest): EndpointClaim[] {
  return store.sqlite.transaction(() => claimEach(store, request)).immediate();
}

/**
 * Records the answers (attempt, row, endpoint) and then, if asked, claims what may go next,
 * in one transaction. `longFailing` says which endpoints a failure disables at once.
 */
export function recordAnswers(store: Store, answers: readonly AttemptAnswer[], longFailing: (now: number) => FailingCutoff, next: ClaimRequest | null): EndpointClaim[] {
  return store.sqlite
    .transaction(() => {
      for (const answer of answers) record(store, answer, longFailing);
      return next ? claimEach(store, next) : [];
    })
    .immediate();
}

function claimEach(store: Store, { now, leaseMs, room }: ClaimRequest): EndpointClaim[] {
  return sendableEndpoints(store, now).map((endpoint) => {
    const n = room(endpoint);
    return { endpoint, room: n, rows: n > 0 ? claim(store.sqlite, endpoint.id, n, now, leaseMs) : [] };
  });
}

function record(store: Store, a: AttemptAnswer, longFailing: (now: number) => FailingCutoff): void {
  const { row, outcome, now } = a;
  recordAttempt(store.sqlite, {
    outboxId: row.id,
    webhookId: row.webhook_id,
    attempt: row.attempts,
    startedAt: a.startedAt,
    durationMs: a.durationMs,
    statusCode: a.statusCode,
    errorClass: a.errorClass,
    error: a.error,
    responseExcerpt: a.responseExcerpt,
    outcome: outcome.action,
  });
  switch (outcome.action) {
    case "delivered":
      finishRow(store.sqlite, row, "delivered", now, a.statusCode, null);
      endFailingRun(store, row.webhook_id);
      return;
    case "dead":
      finishRow(store.sqlite, row, "failed", now, a.statusCode, a.error);
      break;
    case "retry":
      requeueRow(store.sqlite, row.id, outcome.at, a.statusCode, a.error);
      break;
    case "pause_endpoint":
      requeueRow(store.sqlite, row.id, outcome.retryAt, a.statusCode, a.error);
      refundAttempt(store.sqlite, row.id);
      pauseEndpoint(store, row.webhook_id, outcome.until);
      break;
    case "disable_endpoint":
      // The row stays queued: enabling the endpoint again delivers it.
      requeueRow(store.sqlite, row.id, now, a.statusCode, a.error);
      disableEndpoint(store, row.webhook_id, outcome.reason, now);
      break;
  }
  if (a.blamesEndpoint) endpointFailed(store, row.webhook_id, now, longFailing(now));
}
