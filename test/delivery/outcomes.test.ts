// Every row of the outcome table in src/delivery/policy.ts (README "Delivery guarantees"), against a real receiver.
import { describe, expect, test } from "bun:test";
import type { Reply } from "../support/sink.ts";
import { deliveryHarness, textMessage, type Engine } from "../support/delivery.ts";
import { waitUntil } from "../support/wait.ts";

const t = deliveryHarness();
let e: Engine;

interface Case {
  name: string;
  reply: Reply;
  /** The first attempt's outcome as recorded. */
  outcome: "delivered" | "retry" | "pause_endpoint" | "disable_endpoint";
  errorClass: string | null;
  status: "delivered" | "pending";
  /** Delay before the row is due again, ms (range), for retries and pauses. */
  dueIn?: [number, number];
  webhook?: { enabled?: boolean; disabledReason?: string | null; pausedFor?: [number, number] };
}

const httpDate = (msFromNow: number) => new Date(Date.now() + msFromNow).toUTCString();

const cases: Case[] = [
  { name: "200", reply: { status: 200 }, outcome: "delivered", errorClass: null, status: "delivered" },
  { name: "204", reply: { status: 204 }, outcome: "delivered", errorClass: null, status: "delivered" },
  { name: "2xx with a 10 MB body", reply: { status: 200, bodyBytes: 10_000_000 }, outcome: "delivered", errorClass: null, status: "delivered" },
  { name: "302 is not followed", reply: { redirect: "http://127.0.0.1:1/elsewhere" }, outcome: "retry", errorClass: "http", status: "pending", dueIn: [3_900, 6_100] },
  { name: "400", reply: { status: 400 }, outcome: "retry", errorClass: "http", status: "pending", dueIn: [3_900, 6_100] },
  { name: "500", reply: { status: 500 }, outcome: "retry", errorClass: "http", status: "pending", dueIn: [3_900, 6_100] },
  { name: "429 without Retry-After", reply: { status: 429 }, outcome: "retry", errorClass: "http", status: "pending", dueIn: [3_900, 6_100] },
  {
    name: "410 Gone disables the endpoint, the row stays queued",
    reply: { status: 410 },
    outcome: "disable_endpoint",
    errorClass: "http",
    status: "pending",
    webhook: { enabled: false, disabledReason: "the endpoint answered 410 Gone" },
  },
  {
    name: "429 Retry-After seconds pauses the endpoint",
    reply: { status: 429, headers: { "retry-after": "120" } },
    outcome: "pause_endpoint",
    errorClass: "http",
    status: "pending",
    dueIn: [119_000, 121_000],
    webhook: { enabled: true, pausedFor: [119_000, 121_000] },
  },
  {
    name: "503 Retry-After HTTP date pauses the endpoint",
    reply: { status: 503, headers: { "retry-after": httpDate(30_000) } },
    outcome: "pause_endpoint",
    errorClass: "http",
    status: "pending",
    dueIn: [28_000, 31_000],
    webhook: { enabled: true, pausedFor: [28_000, 31_000] },
  },
  {
    name: "Retry-After over 1 h is clamped to 1 h",
    reply: { status: 429, headers: { "retry-after": "86400" } },
    outcome: "pause_endpoint",
    errorClass: "http",
    status: "pending",
    dueIn: [3_599_000, 3_601_000],
    webhook: { enabled: true, pausedFor: [3_599_000, 3_601_000] },
  },
  { name: "timeout", reply: { hang: true }, outcome: "retry", errorClass: "timeout", status: "pending", dueIn: [3_000, 6_100] },
  { name: "connection dropped", reply: { drop: true }, outcome: "retry", errorClass: "network", status: "pending", dueIn: [3_900, 6_100] },
];

describe("outcome of one attempt", () => {
  test.each(cases.map((c) => [c.name, c] as const))("%s", async (_name, c) => {
    e = t.engine();
    t.sink.respondWith(c.reply);
    const hook = e.webhook({ url: t.sink.url() });
    const before = Date.now();
    e.send(textMessage());
    await waitUntil(() => e.store.sqlite.query("SELECT 1 FROM delivery_attempts").get() !== null);
    const attempt = e.store.sqlite.query("SELECT outcome, error_class FROM delivery_attempts").get() as Record<string, unknown>;
    expect(attempt).toEqual({ outcome: c.outcome, error_class: c.errorClass });
    const row = e.store.sqlite.query("SELECT status, available_at FROM outbox").get() as { status: string; available_at: number };
    expect(row.status).toBe(c.status);
    if (c.dueIn) {
      expect(row.available_at - before).toBeGreaterThanOrEqual(c.dueIn[0]);
      expect(row.available_at - before).toBeLessThanOrEqual(c.dueIn[1] + 2_000);
    }
    const w = e.store.sqlite.query("SELECT enabled, disabled_reason, paused_until FROM webhooks WHERE id = ?").get(hook.id) as {
      enabled: number;
      disabled_reason: string | null;
      paused_until: number | null;
    };
    if (c.webhook?.enabled !== undefined) expect(w.enabled === 1).toBe(c.webhook.enabled);
    if (c.webhook?.disabledReason !== undefined) expect(w.disabled_reason).toBe(c.webhook.disabledReason);
    if (c.webhook?.pausedFor) {
      expect(w.paused_until! - before).toBeGreaterThanOrEqual(c.webhook.pausedFor[0]);
      expect(w.paused_until! - before).toBeLessThanOrEqual(c.webhook.pausedFor[1] + 2_000);
    }
  });

  test("a DNS name that does not resolve is a failed attempt of class dns", async () => {
    e = t.engine({ lookup: async () => Promise.reject(Object.assign(new Error("nope"), { code: "ENOTFOUND" })) });
    e.webhook({ url: "http://receiver.invalid/hook" });
    e.send(textMessage());
    await waitUntil(() => e.store.sqlite.query("SELECT 1 FROM delivery_attempts").get() !== null);
    expect(e.store.sqlite.query("SELECT outcome, error_class FROM delivery_attempts").get()).toEqual({ outcome: "retry", error_class: "dns" });
  });

  test("a DNS name that resolves to a refused address is never contacted", async () => {
    e = t.engine({ allow: { loopback: false, private: false, cidrs: [] }, lookup: async () => [{ address: "127.0.0.1", family: 4 }] });
    e.webhook({ url: `http://receiver.example:${new URL(t.sink.url()).port}/hook` });
    e.send(textMessage());
    await waitUntil(() => e.store.sqlite.query("SELECT 1 FROM delivery_attempts").get() !== null);
    expect(e.store.sqlite.query("SELECT outcome, error_class FROM delivery_attempts").get()).toEqual({ outcome: "retry", error_class: "blocked_target" });
    expect(t.sink.requests).toHaveLength(0);
  });

  test("retries follow the schedule until the dead letter, then the chat moves on", async () => {
    e = t.engine();
    t.sink.respondWith((req) => ((req.json as any).message.text === "poison" ? { status: 500 } : { status: 200 }));
    e.webhook({ url: t.sink.url(), retrySchedule: [50, 100] });
    e.send(textMessage({ text: "poison" }));
    e.send(textMessage({ text: "next" }));
    await t.sink.waitFor((r) => r.some((x) => (x.json as any).message.text === "next"), 5_000);
    const texts = t.sink.requests.map((r) => (r.json as any).message.text);
    expect(texts).toEqual(["poison", "poison", "poison", "next"]);
    await waitUntil(() => e.outbox().every((r) => r.status !== "pending" && r.status !== "in_flight"));
    expect(e.outbox().map((r) => [r.seq, r.status, r.attempts])).toEqual([
      [1, "failed", 3],
      [2, "delivered", 1],
    ]);
    const gaps = t.sink.requests.slice(0, 3).map((r, i, all) => (i ? r.receivedAt - all[i - 1]!.receivedAt : 0));
    expect(gaps[1]).toBeGreaterThanOrEqual(35);
    expect(gaps[2]).toBeGreaterThanOrEqual(75);
  });

  test("a webhook disabled by 410 delivers its queue when enabled again", async () => {
    e = t.engine();
    t.sink.respondWith([{ status: 410 }]);
    const hook = e.webhook({ url: t.sink.url() });
    e.send(textMessage());
    e.send(textMessage());
    await t.sink.waitFor(1);
    // Disabled by the 410, it sends nothing more (the chat's second event waits behind the first).
    await waitUntil(() => (e.store.sqlite.query("SELECT enabled FROM webhooks WHERE id = ?").get(hook.id) as { enabled: number }).enabled === 0);
    expect(t.sink.requests).toHaveLength(1);
    const { setWebhookEnabled } = await import("../../src/store/webhooks.ts");
    setWebhookEnabled(e.store, hook.id, true);
    e.worker.wake();
    const got = await t.sink.waitFor(3);
    expect(got.map((r) => (r.json as any).seq)).toEqual([1, 1, 2]);
    expect(new Set(got.slice(0, 2).map((r) => r.headers["webhook-id"])).size).toBe(1);
  });
});
