import { describe, expect, test } from "bun:test";
import {
  AUTO_DISABLE_AFTER_MS,
  type AttemptResult,
  blamesEndpoint,
  DEFAULT_SCHEDULE_MS,
  decide,
  type ErrorClass,
  errorClassOf,
  LONG_FAILING_REASON,
  longFailing,
  parseRetryAfter,
  validateSchedule,
} from "../../src/delivery/policy.ts";
import type { AttemptOutcome } from "../../src/domain.ts";

const NOW = Date.UTC(2026, 10, 24, 12, 0, 0);
const noJitter = () => 0.5;
const response = (status: number, retryAfter: string | null = null): AttemptResult => ({ kind: "response", status, retryAfter });
const httpDate = (ms: number) => new Date(ms).toUTCString();

describe("decide: one answer, first attempt", () => {
  const retry: AttemptOutcome = { action: "retry", at: NOW + 5000 };
  const pause = (ms: number): AttemptOutcome => ({ action: "pause_endpoint", until: NOW + ms, retryAt: NOW + ms });
  const cases: [string, AttemptResult, AttemptOutcome][] = [
    ["200", response(200), { action: "delivered" }],
    ["201", response(201), { action: "delivered" }],
    ["204", response(204), { action: "delivered" }],
    ["299", response(299), { action: "delivered" }],
    ["301 (redirects are not followed)", response(301), retry],
    ["302", response(302), retry],
    ["304", response(304), retry],
    ["307", response(307), retry],
    ["308", response(308), retry],
    ["400", response(400), retry],
    ["401", response(401), retry],
    ["404", response(404), retry],
    ["413", response(413), retry],
    ["410 Gone", response(410), { action: "disable_endpoint", reason: "the endpoint answered 410 Gone" }],
    ["410 with Retry-After", response(410, "5"), { action: "disable_endpoint", reason: "the endpoint answered 410 Gone" }],
    ["429 without Retry-After", response(429), retry],
    ["429 Retry-After 5", response(429, "5"), pause(5000)],
    ["503 Retry-After 120", response(503, "120"), pause(120_000)],
    ["429 Retry-After 0 → 1 s floor", response(429, "0"), pause(1000)],
    ["503 Retry-After 7200 → 1 h cap", response(503, "7200"), pause(3_600_000)],
    ["429 Retry-After HTTP date in 30 s", response(429, httpDate(NOW + 30_000)), pause(30_000)],
    ["503 Retry-After HTTP date in 2 days → 1 h cap", response(503, httpDate(NOW + 2 * 86_400_000)), pause(3_600_000)],
    ["429 Retry-After HTTP date in the past → 1 s floor", response(429, httpDate(NOW - 60_000)), pause(1000)],
    ["429 unparseable Retry-After", response(429, "soon"), retry],
    ["503 Retry-After with a fraction", response(503, "1.5"), retry],
    ["503 without Retry-After", response(503), retry],
    ["500 Retry-After 5 (only 429/503 pause)", response(500, "5"), retry],
    ["500", response(500), retry],
    ["502", response(502), retry],
    ["504", response(504), retry],
  ];
  test.each(cases)("%s", (_name, result, outcome) => {
    expect(decide(result, { attempt: 1, now: NOW, random: noJitter })).toEqual(outcome);
  });

  const errors: ErrorClass[] = ["timeout", "connect", "dns", "tls", "network", "blocked_target", "body_too_large", "internal"];
  test.each(errors)("error %s is a failed attempt", (errorClass) => {
    expect(decide({ kind: "error", errorClass }, { attempt: 1, now: NOW, random: noJitter })).toEqual(retry);
  });
});

describe("decide: retry schedule", () => {
  test("default schedule: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h", () => {
    expect(DEFAULT_SCHEDULE_MS).toEqual([5e3, 3e5, 18e5, 72e5, 18e6, 36e6, 36e6]);
    expect(AUTO_DISABLE_AFTER_MS).toBe(5 * 24 * 3600 * 1000);
  });

  const walk: [attempt: number, outcome: AttemptOutcome][] = [
    [1, { action: "retry", at: NOW + 5_000 }],
    [2, { action: "retry", at: NOW + 300_000 }],
    [3, { action: "retry", at: NOW + 1_800_000 }],
    [4, { action: "retry", at: NOW + 7_200_000 }],
    [5, { action: "retry", at: NOW + 18_000_000 }],
    [6, { action: "retry", at: NOW + 36_000_000 }],
    [7, { action: "retry", at: NOW + 36_000_000 }],
    [8, { action: "dead" }],
    [9, { action: "dead" }],
  ];
  test.each(walk)("failure on attempt %i", (attempt, outcome) => {
    expect(decide(response(500), { attempt, now: NOW, random: noJitter })).toEqual(outcome);
  });

  const overrides: [schedule: number[], attempt: number, outcome: AttemptOutcome][] = [
    [[1000, 2000], 1, { action: "retry", at: NOW + 1000 }],
    [[1000, 2000], 2, { action: "retry", at: NOW + 2000 }],
    [[1000, 2000], 3, { action: "dead" }],
    [[60_000], 2, { action: "dead" }],
  ];
  test.each(overrides)("override %j, failure on attempt %i", (schedule, attempt, outcome) => {
    expect(decide({ kind: "error", errorClass: "timeout" }, { attempt, now: NOW, schedule, random: noJitter })).toEqual(outcome);
  });

  const jitter: [random: number, at: number][] = [
    [0, NOW + 4000],
    [0.25, NOW + 4500],
    [0.75, NOW + 5500],
    [1 - 1e-12, NOW + 6000],
  ];
  test.each(jitter)("jitter ±20%%: random %d", (r, at) => {
    expect(decide(response(500), { attempt: 1, now: NOW, random: () => r })).toEqual({ action: "retry", at });
  });

  test("default random stays within ±20%", () => {
    for (let i = 0; i < 200; i++) {
      const outcome = decide(response(500), { attempt: 2, now: NOW });
      if (outcome.action !== "retry") throw new Error(`expected retry, got ${outcome.action}`);
      expect(outcome.at - NOW).toBeGreaterThanOrEqual(240_000);
      expect(outcome.at - NOW).toBeLessThanOrEqual(360_000);
    }
  });

  const lastAttempt: [string, AttemptResult, AttemptOutcome][] = [
    ["2xx still delivers", response(200), { action: "delivered" }],
    ["429 with Retry-After still pauses", response(429, "10"), { action: "pause_endpoint", until: NOW + 10_000, retryAt: NOW + 10_000 }],
    ["410 still disables", response(410), { action: "disable_endpoint", reason: "the endpoint answered 410 Gone" }],
    ["blocked target dead-letters", { kind: "error", errorClass: "blocked_target" }, { action: "dead" }],
  ];
  test.each(lastAttempt)("after the last attempt: %s", (_name, result, outcome) => {
    expect(decide(result, { attempt: 8, now: NOW, random: noJitter })).toEqual(outcome);
  });

  test.each([0, -1, 1.5, Number.NaN])("attempt %d is a programming error", (attempt) => {
    expect(() => decide(response(200), { attempt, now: NOW })).toThrow(RangeError);
  });
});

describe("what an attempt is recorded as, and whether it tells about the endpoint", () => {
  const error = (errorClass: ErrorClass): AttemptResult => ({ kind: "error", errorClass });
  const cases: [name: string, result: AttemptResult, errorClass: ReturnType<typeof errorClassOf>, blames: boolean][] = [
    ["200", response(200), null, true],
    ["299", response(299), null, true],
    ["199", response(199), "http", true],
    ["302", response(302), "http", true],
    ["410", response(410), "http", true],
    ["429 with Retry-After", response(429, "5"), "http", true],
    ["500", response(500), "http", true],
    ["timeout", error("timeout"), "timeout", true],
    ["connect", error("connect"), "connect", true],
    ["dns", error("dns"), "dns", true],
    ["tls", error("tls"), "tls", true],
    ["network", error("network"), "network", true],
    ["blocked_target", error("blocked_target"), "blocked_target", true],
    ["body_too_large", error("body_too_large"), "body_too_large", true],
    ["internal: our own bug", error("internal"), "internal", false],
  ];
  test.each(cases)("%s", (_name, result, errorClass, blames) => {
    expect(errorClassOf(result)).toBe(errorClass);
    expect(blamesEndpoint(result)).toBe(blames);
  });
});

describe("longFailing: which endpoints a run of failures disables", () => {
  test.each([NOW, 0, AUTO_DISABLE_AFTER_MS])("at %d: those failing since 5 days before or earlier", (now) => {
    expect(longFailing(now)).toEqual({ since: now - 5 * 24 * 3600 * 1000, reason: LONG_FAILING_REASON });
  });
});

describe("parseRetryAfter", () => {
  const at = Date.UTC(1994, 10, 6, 8, 49, 37);
  const cases: [value: string, now: number, ms: number | null][] = [
    ["120", NOW, 120_000],
    [" 5 ", NOW, 5000],
    ["0", NOW, 0],
    ["007", NOW, 7000],
    ["-1", NOW, null],
    ["1.5", NOW, null],
    ["1e3", NOW, null],
    ["", NOW, null],
    ["soon", NOW, null],
    ["foo 2020", NOW, null],
    ["Sun, 06 Nov 1994 08:49:37 GMT", at - 10_000, 10_000],
    ["Sunday, 06-Nov-94 08:49:37 GMT", at - 10_000, 10_000],
    ["Sun Nov  6 08:49:37 1994", at - 10_000, 10_000],
    ["Sun, 06 Nov 1994 08:49:37 GMT", at + 60_000, -60_000],
    ["sun, 06 nov 1994 08:49:37 gmt", at, null],
    ["Sun, 06 Nov 1994 08:49:37 UTC", at, null],
    ["Sun, 31 Feb 1994 08:49:37 GMT", at, null],
    ["Sun, 06 Nov 1994 24:00:00 GMT", at, null],
    ["Sun, 06 Foo 1994 08:49:37 GMT", at, null],
    ["6 Nov 1994 08:49:37 GMT", at, null],
  ];
  test.each(cases)("%p at %d → %p", (value, now, ms) => {
    expect(parseRetryAfter(value, now)).toBe(ms);
  });
});

describe("validateSchedule", () => {
  const tooMany = Array.from({ length: 21 }, () => 1000);
  const cases: [schedule: number[], result: ReturnType<typeof validateSchedule>][] = [
    [[1000], { ok: true }],
    [[5000, 60_000, 86_400_000], { ok: true }],
    [Array.from({ length: 20 }, () => 1000), { ok: true }],
    [[], { ok: false, message: "a retry schedule has 1 to 20 delays, got 0" }],
    [tooMany, { ok: false, message: "a retry schedule has 1 to 20 delays, got 21" }],
    [[1000, 999], { ok: false, message: "retry delay #2 (999) must be whole milliseconds from 1000 (1 s) to 86400000 (24 h)" }],
    [[86_400_001], { ok: false, message: "retry delay #1 (86400001) must be whole milliseconds from 1000 (1 s) to 86400000 (24 h)" }],
    [[1500.5], { ok: false, message: "retry delay #1 (1500.5) must be whole milliseconds from 1000 (1 s) to 86400000 (24 h)" }],
    [[Number.NaN], { ok: false, message: "retry delay #1 (NaN) must be whole milliseconds from 1000 (1 s) to 86400000 (24 h)" }],
  ];
  test.each(cases)("%j", (schedule, result) => {
    expect(validateSchedule(schedule)).toEqual(result);
  });
});
