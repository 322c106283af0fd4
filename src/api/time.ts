// ISO 8601 times in queries and bodies → milliseconds, with errors that name the field and
// show the form that works.
import { ApiError } from "../errors.ts";

/** An ISO 8601 time → ms, or a validation error naming the field. */
export function parseTime(value: string | undefined, field: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = /^\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(ms)) {
    const message = `${field}: '${value}' is not an ISO 8601 time such as 2026-11-24T10:00:00Z.`;
    throw new ApiError("validation_failed", message, [{ field, message: "Expected an ISO 8601 time" }]);
  }
  return ms;
}

export function parseRange(since: string | undefined, until: string | undefined, where: "query" | "body") {
  const range = { since: parseTime(since, `${where}.since`), until: parseTime(until, `${where}.until`) };
  if (range.since !== undefined && range.until !== undefined && range.since > range.until) {
    const message = `${where}.since is after ${where}.until; swap them.`;
    throw new ApiError("validation_failed", message, [{ field: `${where}.since`, message: "Must not be after until" }]);
  }
  return range;
}
