// The worker's transactions: what recording each outcome writes (attempt, row, endpoint),
// claims that honour the room they are given, and one commit for a batch and the next claim.
import { beforeEach, describe, expect, test } from "bun:test";
import type { AttemptOutcome } from "../../src/domain.ts";
import { claimDue, recordAnswers, type AttemptAnswer, type ClaimRequest } from "../../src/store/attempts.ts";
import type { Store } from "../../src/store/db.ts";
import { enqueue, type ClaimedRow } from "../../src/store/outbox.ts";
import { insertWebhook, type WebhookInsert } from "../../src/store/webhooks.ts";
import { storePerTest } from "../support/store.ts";

const NOW = 1_800_000_000_000;
const DAY = 86_400_000;
const LONG_FAILING = (now: number) => ({ since: now - 5 * DAY, reason: "failing too long" });

const db = storePerTest("wahook-attempts-");
let store: Store;
beforeEach(() => {
  store = db.store;
});

const endpoint = (values: Partial<WebhookInsert> = {}) => insertWebhook(store, { url: "https://receiver.example/hook", events: ["message.received"], ...values }).id;
function queue(webhookId: string, chat = "c1"): string {
  return enqueue(store.sqlite, { webhookId, ordering: "per_chat", event: "webhook.test", accountId: null, chatKey: chat, messageRowid: null, data: {}, priority: 0 }, NOW - 1_000).id;
}
const everyRoom = (room: number): ClaimRequest => ({ now: NOW, leaseMs: 60_000, room: () => room });
const rows = () => claimDue(store, everyRoom(10)).flatMap((c) => c.rows);

function answer(row: ClaimedRow, outcome: AttemptOutcome, blamesEndpoint = outcome.action !== "delivered"): AttemptAnswer {
  const ok = outcome.action === "delivered";
  return {
    row,
    startedAt: NOW - 20,
    durationMs: 20,
    statusCode: ok ? 200 : 500,
    errorClass: ok ? null : "http",
    error: ok ? null : "HTTP 500",
    responseExcerpt: "answer",
    outcome,
    blamesEndpoint,
    now: NOW,
  };
}
const outbox = (id: string) => store.sqlite.query("SELECT status, attempts, available_at, last_status_code, last_error, delivered_at FROM outbox WHERE id = ?").get(id);
const hook = (id: string) => store.sqlite.query("SELECT enabled, disabled_reason, paused_until, failing_since FROM webhooks WHERE id = ?").get(id);
const attempts = () => store.sqlite.query("SELECT attempt, status_code, error_class, outcome FROM delivery_attempts").all();

describe("recording one answer", () => {
  const cases: [name: string, outcome: AttemptOutcome, before: Partial<WebhookInsert>, blames: boolean, row: object, endpoint: object][] = [
    [
      "delivered: the row is done, the endpoint's run of failures ends",
      { action: "delivered" },
      { failingSince: NOW - DAY },
      true,
      { status: "delivered", attempts: 1, last_status_code: 200, last_error: null, delivered_at: NOW },
      { enabled: 1, failing_since: null },
    ],
    ["retry: due again at its time", { action: "retry", at: NOW + 5_000 }, {}, true, { status: "pending", attempts: 1, available_at: NOW + 5_000, last_error: "HTTP 500" }, { enabled: 1, failing_since: NOW }],
    ["dead: a dead letter", { action: "dead" }, {}, true, { status: "failed", attempts: 1, last_error: "HTTP 500", delivered_at: null }, { enabled: 1, failing_since: NOW }],
    [
      "pause: due when the pause ends, the attempt not counted",
      { action: "pause_endpoint", until: NOW + 30_000, retryAt: NOW + 30_000 },
      {},
      true,
      { status: "pending", attempts: 0, available_at: NOW + 30_000 },
      { enabled: 1, paused_until: NOW + 30_000, failing_since: NOW },
    ],
    [
      "disable: the row stays queued",
      { action: "disable_endpoint", reason: "the endpoint answered 410 Gone" },
      {},
      true,
      { status: "pending", attempts: 1, available_at: NOW },
      { enabled: 0, disabled_reason: "the endpoint answered 410 Gone" },
    ],
    [
      "a failure on an endpoint failing for 5 days disables it",
      { action: "retry", at: NOW + 5_000 },
      { failingSince: NOW - 5 * DAY },
      true,
      { status: "pending", attempts: 1 },
      { enabled: 0, disabled_reason: "failing too long", failing_since: NOW - 5 * DAY },
    ],
    [
      "our own failure: retried, the endpoint untouched",
      { action: "retry", at: NOW + 5_000 },
      { failingSince: NOW - 5 * DAY },
      false,
      { status: "pending", attempts: 1, available_at: NOW + 5_000 },
      { enabled: 1, disabled_reason: null, failing_since: NOW - 5 * DAY },
    ],
  ];
  test.each(cases)("%s", (_name, outcome, before, blames, row, endpointAfter) => {
    const id = endpoint(before);
    queue(id);
    const [claimed] = rows();
    recordAnswers(store, [answer(claimed!, outcome, blames)], LONG_FAILING, null);
    expect(outbox(claimed!.id)).toMatchObject(row);
    expect(hook(id)).toMatchObject(endpointAfter);
    expect(attempts()).toEqual([{ attempt: 1, status_code: outcome.action === "delivered" ? 200 : 500, error_class: outcome.action === "delivered" ? null : "http", outcome: outcome.action }]);
  });
});

describe("claims", () => {
  test("each sendable endpoint is asked for its room and gets at most that many rows", () => {
    const a = endpoint();
    const b = endpoint();
    endpoint({ enabled: false });
    endpoint({ pausedUntil: NOW + 1 });
    for (const webhookId of [a, b]) for (const chat of ["c1", "c2", "c3"]) queue(webhookId, chat);
    const asked: string[] = [];
    const claims = claimDue(store, { now: NOW, leaseMs: 60_000, room: (e) => (asked.push(e.id), e.id === a ? 2 : 0) });
    expect(asked.sort()).toEqual([a, b].sort());
    expect(claims.map((c) => [c.endpoint.id, c.room, c.rows.length]).sort()).toEqual([[a, 2, 2], [b, 0, 0]].sort());
  });

  test("recording a batch and claiming the chat's next row is one commit", () => {
    const id = endpoint();
    queue(id);
    const second = queue(id);
    const [first] = rows();
    const next = recordAnswers(store, [answer(first!, { action: "delivered" })], LONG_FAILING, everyRoom(1));
    expect(next.flatMap((c) => c.rows.map((r) => r.id))).toEqual([second]);
  });

  test("an answer that cannot be recorded rolls the batch back: nothing recorded, nothing claimed", () => {
    const id = endpoint();
    queue(id, "c1");
    queue(id, "c2");
    queue(id, "c3");
    const [a, b] = claimDue(store, everyRoom(2)).flatMap((c) => c.rows);
    const gone = { ...b!, id: "msg_gone" };
    expect(() => recordAnswers(store, [answer(a!, { action: "delivered" }), answer(gone, { action: "delivered" })], LONG_FAILING, everyRoom(5))).toThrow();
    expect(outbox(a!.id)).toMatchObject({ status: "in_flight" });
    expect(attempts()).toEqual([]);
    expect(store.sqlite.query("SELECT COUNT(*) AS n FROM outbox WHERE status = 'pending'").get()).toEqual({ n: 1 });
  });
});
