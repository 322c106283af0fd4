// The delivery state of endpoints: which may be sent to, the run of failures, pauses and
// disabling, as the rows show it.
import { beforeEach, describe, expect, test } from "bun:test";
import type { Store } from "../../src/store/db.ts";
import { disableEndpoint, disableFailingSince, endFailingRun, endpointFailed, pauseEndpoint, sendableEndpoints } from "../../src/store/endpoints.ts";
import { insertWebhook, type WebhookInsert } from "../../src/store/webhooks.ts";
import { storePerTest } from "../support/store.ts";

const NOW = 1_800_000_000_000;
const DAY = 86_400_000;
const CUTOFF = { since: NOW - 5 * DAY, reason: "failing too long" };

const db = storePerTest("wahook-endpoints-");
let store: Store;
beforeEach(() => {
  store = db.store;
});

const endpoint = (values: Partial<WebhookInsert> = {}) => insertWebhook(store, { url: "https://receiver.example/hook", events: ["message.received"], ...values });
const state = (id: string) =>
  store.sqlite.query("SELECT enabled, disabled_reason, disabled_at, paused_until, failing_since FROM webhooks WHERE id = ?").get(id) as {
    enabled: number;
    disabled_reason: string | null;
    disabled_at: number | null;
    paused_until: number | null;
    failing_since: number | null;
  };

test("an endpoint as sending reads it is its webhook row, column for column", () => {
  const row = endpoint({ format: "raw", maxConcurrency: 7, rateLimitPerS: 3, retrySchedule: [1_000, 2_000], previousSecret: "whsec_b2xk", previousSecretUntil: NOW + 1 });
  expect(sendableEndpoints(store, NOW)).toEqual([
    {
      id: row.id,
      url: row.url,
      format: row.format,
      max_concurrency: row.maxConcurrency,
      rate_limit_per_s: row.rateLimitPerS,
      retry_schedule: JSON.stringify(row.retrySchedule),
      secret: row.secret,
      previous_secret: row.previousSecret,
      previous_secret_until: row.previousSecretUntil,
    },
  ]);
});

test.each([
  ["enabled", {}, true],
  ["disabled", { enabled: false }, false],
  ["paused until later", { pausedUntil: NOW + 1 }, false],
  ["paused until now", { pausedUntil: NOW }, true],
  ["a pause that is over", { pausedUntil: NOW - 1 }, true],
] as const)("sendable at NOW: %s → %p", (_name, values, sendable) => {
  endpoint(values);
  expect(sendableEndpoints(store, NOW)).toHaveLength(sendable ? 1 : 0);
});

describe("the run of failures", () => {
  const cases: [name: string, before: Partial<WebhookInsert>, after: Partial<ReturnType<typeof state>>][] = [
    ["a healthy endpoint starts one", {}, { enabled: 1, failing_since: NOW }],
    ["one running goes on from its start", { failingSince: NOW - DAY }, { enabled: 1, failing_since: NOW - DAY }],
    ["one that began at the cutoff disables the endpoint", { failingSince: NOW - 5 * DAY }, { enabled: 0, disabled_reason: CUTOFF.reason, disabled_at: NOW }],
    ["one older than the cutoff too", { failingSince: NOW - 9 * DAY }, { enabled: 0, disabled_reason: CUTOFF.reason }],
    [
      "an endpoint disabled for another reason keeps it",
      { enabled: false, disabledReason: "by an admin", disabledAt: NOW - DAY, failingSince: NOW - 9 * DAY },
      { enabled: 0, disabled_reason: "by an admin", disabled_at: NOW - DAY },
    ],
  ];
  test.each(cases)("a failed attempt: %s", (_name, before, after) => {
    const { id } = endpoint(before);
    endpointFailed(store, id, NOW, CUTOFF);
    expect(state(id)).toMatchObject(after);
  });

  test("a delivered attempt ends it", () => {
    const { id } = endpoint({ failingSince: NOW - DAY });
    endFailingRun(store, id);
    expect(state(id).failing_since).toBeNull();
  });

  test("the sweep disables every endpoint past the cutoff, or only the one asked for", () => {
    const old = [endpoint({ failingSince: NOW - 6 * DAY }), endpoint({ failingSince: NOW - 7 * DAY })];
    const young = endpoint({ failingSince: NOW - DAY });
    expect(disableFailingSince(store, CUTOFF, NOW, old[0]!.id)).toBe(1);
    expect(state(old[1]!.id).enabled).toBe(1);
    expect(disableFailingSince(store, CUTOFF, NOW)).toBe(1);
    expect([...old, young].map((w) => state(w.id).enabled)).toEqual([0, 0, 1]);
  });
});

test("a pause holds the endpoint back until its time", () => {
  const { id } = endpoint();
  pauseEndpoint(store, id, NOW + 30_000);
  expect(state(id).paused_until).toBe(NOW + 30_000);
  expect(sendableEndpoints(store, NOW)).toEqual([]);
  expect(sendableEndpoints(store, NOW + 30_000)).toHaveLength(1);
});

test("disabled by an answer (410): the first reason stays", () => {
  const { id } = endpoint();
  disableEndpoint(store, id, "the endpoint answered 410 Gone", NOW);
  disableEndpoint(store, id, "something later", NOW + 1);
  expect(state(id)).toMatchObject({ enabled: 0, disabled_reason: "the endpoint answered 410 Gone", disabled_at: NOW });
});
