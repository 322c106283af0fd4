// What an admin reads while a backfill runs: counts, percent and time left, as a table.
import { describe, expect, test } from "bun:test";
import { progressOf } from "../../src/backfill/progress.ts";
import { windowOf } from "../../src/backfill/pace.ts";
import type { BackfillRow, OutcomeCounts } from "../../src/store/backfills.ts";

function job(over: Partial<BackfillRow>): BackfillRow {
  return {
    id: "bf_x",
    account_id: "acc_x",
    state: "running",
    auto: 0,
    webhook_ids: '["wh_a"]',
    chat_ids: null,
    since: null,
    until: null,
    older_per_chat: null,
    rate_per_s: 20,
    redeliver: 0,
    min_rowid: 0,
    max_rowid: 100,
    plan_after: null,
    total: 1000,
    enqueued: 0,
    skipped: 0,
    delivered: null,
    failed: null,
    cursor_ts: null,
    cursor_rowid: null,
    exhausted: 0,
    error: null,
    created_at: 0,
    started_at: 0,
    finished_at: null,
    updated_at: 0,
    ...over,
  };
}

const none: OutcomeCounts = { pending: 0, in_flight: 0, delivered: 0, failed: 0 };

describe("progressOf", () => {
  const cases: [string, Partial<BackfillRow>, OutcomeCounts, object][] = [
    ["planning: nothing known yet", { state: "planning", total: null, started_at: null }, none, { total: null, percent: null, eta_s: null }],
    ["just started: all of it left at 20/s", {}, none, { total: 1000, percent: 0, eta_s: 50 }],
    ["a quarter delivered, ten queued", { enqueued: 260 }, { pending: 8, in_flight: 2, delivered: 250, failed: 0 }, { delivered: 250, pending: 10, percent: 25, eta_s: 38 }],
    ["skips and dead letters count as done", { enqueued: 500, skipped: 400 }, { ...none, delivered: 480, failed: 20 }, { percent: 90, eta_s: 5 }],
    ["two webhooks: the pace is per webhook", { webhook_ids: '["wh_a","wh_b"]', total: 1000 }, none, { eta_s: 25 }],
    ["empty selection is done", { total: 0 }, none, { total: 0, percent: 100 }],
    ["paused: no estimate", { state: "paused", enqueued: 100 }, { ...none, delivered: 100 }, { percent: 10, eta_s: null }],
    ["finished: frozen counts win over the outbox (retention may have pruned rows)", { state: "finished", enqueued: 1000, delivered: 998, failed: 2 }, none, { delivered: 998, failed: 2, percent: 100, eta_s: null }],
    ["cancelled part-way", { state: "cancelled", enqueued: 300, delivered: 290, failed: 0 }, { ...none, pending: 10 }, { delivered: 290, pending: 10, percent: 29, eta_s: null }],
  ];
  test.each(cases)("%s", (_name, over, outcomes, expected) => {
    expect(progressOf(job(over), outcomes)).toMatchObject(expected);
  });
});

describe("windowOf: rows a job may have queued and undelivered", () => {
  test.each([
    [1, 2],
    [20, 10],
    [21, 11],
    [1000, 500],
  ])("rate %d/s → %d", (rate, window) => expect(windowOf(rate)).toBe(window));
});
