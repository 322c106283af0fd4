// What one attempt's result means for the delivery row and its endpoint
// (README "Delivery guarantees": retries, Retry-After, 410, auto-disable). Pure: the worker
// hands the outcome to the store, which records the attempt and applies it.
import type { AttemptOutcome } from "../domain.ts";

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** Delays before attempts 2..8; attempt 1 goes out at once. */
export const DEFAULT_SCHEDULE_MS: readonly number[] = [
  5 * SECOND,
  5 * MINUTE,
  30 * MINUTE,
  2 * HOUR,
  5 * HOUR,
  10 * HOUR,
  10 * HOUR,
];

/** An endpoint whose every attempt has failed for this long is disabled. */
export const AUTO_DISABLE_AFTER_MS = 5 * 24 * HOUR;
export const LONG_FAILING_REASON = "every attempt failed for 5 days";

const JITTER = 0.2;
const PAUSE_MIN_MS = 1 * SECOND;
const PAUSE_MAX_MS = 1 * HOUR;

/** `internal`: our own failure while preparing or sending (a bug), not the receiver's. */
export type ErrorClass = "timeout" | "connect" | "dns" | "tls" | "network" | "blocked_target" | "body_too_large" | "internal";

export type AttemptResult =
  | { kind: "response"; status: number; retryAfter: string | null }
  | { kind: "error"; errorClass: ErrorClass };

export interface DecideContext {
  /** 1-based number of the attempt just made. */
  attempt: number;
  now: number;
  /** Per-endpoint override of DEFAULT_SCHEDULE_MS. */
  schedule?: readonly number[];
  /** In [0, 1); injectable so tests can pin the jitter. */
  random?: () => number;
}

export function decide(result: AttemptResult, ctx: DecideContext): AttemptOutcome {
  if (!Number.isSafeInteger(ctx.attempt) || ctx.attempt < 1) {
    throw new RangeError(`attempt must be a whole number from 1, got ${ctx.attempt}`);
  }
  // blocked_target (the resolved address is refused by WAHOOK_ALLOW_TARGETS) falls through
  // as an ordinary failed attempt rather than dead-lettering at once: the operator may
  // widen the config, or the DNS name may move, before the schedule runs out.
  if (result.kind === "error") return failed(ctx);

  const { status } = result;
  if (status >= 200 && status <= 299) return { action: "delivered" };
  // The rows stay queued: re-enabling the endpoint delivers them.
  if (status === 410) return { action: "disable_endpoint", reason: "the endpoint answered 410 Gone" };
  if ((status === 429 || status === 503) && result.retryAfter !== null) {
    const delay = parseRetryAfter(result.retryAfter, ctx.now);
    // The receiver is throttling, not refusing this event: the pause does not dead-letter
    // even on the last scheduled attempt. AUTO_DISABLE_AFTER_MS bounds an endless pause.
    if (delay !== null) {
      const until = ctx.now + Math.min(PAUSE_MAX_MS, Math.max(PAUSE_MIN_MS, delay));
      return { action: "pause_endpoint", until, retryAt: until };
    }
  }
  // 3xx included: redirects are not followed, so a moved endpoint must be reconfigured.
  return failed(ctx);
}

function failed(ctx: DecideContext): AttemptOutcome {
  const delay = (ctx.schedule ?? DEFAULT_SCHEDULE_MS)[ctx.attempt - 1];
  if (delay === undefined) return { action: "dead" };
  const random = ctx.random ?? Math.random;
  // Jitter spreads the retries of many rows that failed together (an endpoint outage).
  const factor = 1 + JITTER * (2 * random() - 1);
  return { action: "retry", at: ctx.now + Math.round(delay * factor) };
}

/** The class an attempt is recorded with (delivery_attempts.error_class): null for a 2xx. */
export function errorClassOf(result: AttemptResult): ErrorClass | "http" | null {
  if (result.kind === "error") return result.errorClass;
  return result.status >= 200 && result.status <= 299 ? null : "http";
}

/**
 * Does this attempt say anything about the endpoint's health (its run of failures, and so
 * auto-disable)? Not when the failure was ours: a bug must not disable a healthy endpoint.
 */
export function blamesEndpoint(result: AttemptResult): boolean {
  return result.kind === "response" || result.errorClass !== "internal";
}

/** Which endpoints to disable at `now` for failing too long: those failing since `since` or earlier. */
export function longFailing(now: number): { since: number; reason: string } {
  return { since: now - AUTO_DISABLE_AFTER_MS, reason: LONG_FAILING_REASON };
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
// RFC 9110 §5.6.7: recipients must accept IMF-fixdate and the two obsolete forms.
const IMF_FIXDATE = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{2}) ([A-Z][a-z]{2}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
const RFC850_DATE =
  /^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (\d{2})-([A-Z][a-z]{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
const ASCTIME_DATE = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) ([A-Z][a-z]{2}) ([ \d]\d) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/;

/**
 * Milliseconds from `now` until the time a Retry-After header names (delay-seconds or
 * HTTP-date); negative for a date in the past; null when the value is not valid.
 * Date.parse is not used: it accepts strings like "1" or "foo 2020".
 */
export function parseRetryAfter(value: string, now: number): number | null {
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * SECOND;
  const date = parseHttpDate(trimmed, now);
  return date === null ? null : date - now;
}

function parseHttpDate(value: string, now: number): number | null {
  let m = IMF_FIXDATE.exec(value);
  if (m) return utc(m[3], m[2], m[1], m[4], m[5], m[6]);
  m = RFC850_DATE.exec(value);
  if (m) {
    // Two-digit years: RFC 9110 says a year more than 50 years ahead is in the past century.
    const yy = Number(m[3]);
    const year = 2000 + yy > new Date(now).getUTCFullYear() + 50 ? 1900 + yy : 2000 + yy;
    return utc(String(year), m[2], m[1], m[4], m[5], m[6]);
  }
  m = ASCTIME_DATE.exec(value);
  if (m) return utc(m[6], m[1], m[2]?.trim(), m[3], m[4], m[5]);
  return null;
}

type Part = string | undefined;
function utc(year: Part, month: Part, day: Part, hour: Part, minute: Part, second: Part): number | null {
  const mon = MONTHS.indexOf(month ?? "");
  const [y, d, h, mi, s] = [year, day, hour, minute, second].map(Number) as [number, number, number, number, number];
  if (mon < 0 || d < 1 || h > 23 || mi > 59 || s > 60) return null;
  const ms = Date.UTC(y, mon, d, h, mi, Math.min(s, 59));
  // Date.UTC rolls 31 Feb over into March; such a date is invalid, not a different day.
  return new Date(ms).getUTCDate() === d ? ms : null;
}

const SCHEDULE_MAX_ENTRIES = 20;
const DELAY_MIN_MS = 1 * SECOND;
const DELAY_MAX_MS = 24 * HOUR;

/** Checks a per-endpoint schedule (delays before attempts 2..n) for the API. */
export function validateSchedule(schedule: readonly number[]): { ok: true } | { ok: false; message: string } {
  if (schedule.length < 1 || schedule.length > SCHEDULE_MAX_ENTRIES) {
    return { ok: false, message: `a retry schedule has 1 to ${SCHEDULE_MAX_ENTRIES} delays, got ${schedule.length}` };
  }
  const bad = schedule.findIndex((ms) => !Number.isInteger(ms) || ms < DELAY_MIN_MS || ms > DELAY_MAX_MS);
  if (bad >= 0) {
    return {
      ok: false,
      message: `retry delay #${bad + 1} (${schedule[bad]}) must be whole milliseconds from ${DELAY_MIN_MS} (1 s) to ${DELAY_MAX_MS} (24 h)`,
    };
  }
  return { ok: true };
}
