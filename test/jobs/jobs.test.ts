// The timed work: retention of old deliveries, auto-disable of endpoints that failed for
// 5 days, and the sweep that rescues rows a dead worker left in flight.
import { describe, expect, test } from "bun:test";
import { LONG_FAILING_REASON, longFailing } from "../../src/delivery/policy.ts";
import { startJobs } from "../../src/jobs/index.ts";
import { silentLogger } from "../../src/log.ts";
import type { DeliveryStatus } from "../../src/domain.ts";
import { disableFailingSince } from "../../src/store/endpoints.ts";
import { claim, enqueue, recordAttempt, releaseExpiredLeases } from "../../src/store/outbox.ts";
import { pruneDelivered } from "../../src/store/retention.ts";
import { runRetention } from "../../src/retention.ts";
import { deliveryHarness, textMessage, type Engine } from "../support/delivery.ts";
import { waitUntil } from "../support/wait.ts";

const t = deliveryHarness();
let e: Engine;

const DAY = 86_400_000;

/** One outbox row of `chat`, created at `createdAt`, in `status`, with one attempt a second later. */
function pastRow(webhookId: string, chat: string, createdAt: number, status: DeliveryStatus): string {
  const { sqlite } = e.store;
  const row = enqueue(
    sqlite,
    { webhookId, ordering: "per_chat", event: "webhook.test", accountId: null, chatKey: chat, messageRowid: null, data: { chat }, priority: 0 },
    createdAt,
  );
  const failed = status === "failed";
  sqlite
    .query("UPDATE outbox SET status = ?, ready = 0, attempts = 1, last_status_code = ?, last_error = ? WHERE id = ?")
    .run(status, failed ? 500 : 200, failed ? "HTTP 500" : null, row.id);
  recordAttempt(sqlite, {
    outboxId: row.id,
    webhookId,
    attempt: 1,
    startedAt: createdAt + 1_000,
    durationMs: 3,
    statusCode: failed ? 500 : 200,
    errorClass: failed ? "http" : null,
    error: failed ? "HTTP 500" : null,
    responseExcerpt: "ok",
    outcome: failed ? "dead" : "delivered",
  });
  return row.id;
}

const rows = () => e.store.sqlite.query("SELECT id, status, last_error FROM outbox ORDER BY chat_key, seq").all() as { id: string; status: string; last_error: string | null }[];
const attemptsOf = (id: string) => e.store.sqlite.query("SELECT COUNT(*) AS n FROM delivery_attempts WHERE outbox_id = ?").get(id) as { n: number };

describe("retention", () => {
  test("delivered rows and their attempts older than the cut go; pending, in flight and dead letters stay whatever their age", async () => {
    e = t.engine();
    // Rows are written by hand here; the worker must not act on them.
    await e.worker.stop(0);
    const hook = e.webhook({ url: t.sink.url() });
    const now = Date.now();
    const old = now - 40 * DAY;
    const goneA = pastRow(hook.id, "a", old, "delivered");
    const goneB = pastRow(hook.id, "a", old + 1, "delivered");
    const recent = pastRow(hook.id, "a", now - DAY, "delivered");
    const pending = pastRow(hook.id, "b", old, "pending");
    const inFlight = pastRow(hook.id, "c", old, "in_flight");
    const dead = pastRow(hook.id, "d", old, "failed");

    const removed = pruneDelivered(e.store, now - 30 * DAY);

    expect(removed.outbox).toBe(2);
    expect(rows()).toEqual([
      { id: recent, status: "delivered", last_error: null },
      { id: pending, status: "pending", last_error: null },
      { id: inFlight, status: "in_flight", last_error: null },
      { id: dead, status: "failed", last_error: "HTTP 500" },
    ]);
    // Rows that stay keep their attempt history, dead letters included.
    expect([goneA, goneB, recent, pending, inFlight, dead].map((id) => attemptsOf(id).n)).toEqual([0, 0, 1, 1, 1, 1]);
  });

  test("more old rows than one delete slice: all of them go", async () => {
    e = t.engine();
    await e.worker.stop(0);
    const hook = e.webhook({ url: t.sink.url() });
    const old = Date.now() - 40 * DAY;
    const { sqlite } = e.store;
    sqlite.transaction(() => {
      const insert = sqlite.query(
        `INSERT INTO outbox (id, webhook_id, event, chat_key, seq, priority, status, ready, attempts, available_at, created_at, delivered_at)
         VALUES (?, ?, 'webhook.test', 'c', ?, 0, 'delivered', 0, 1, ?, ?, ?)`,
      );
      for (let i = 0; i < 12_000; i++) insert.run(`msg_old_${String(i).padStart(6, "0")}`, hook.id, i + 1, old, old, old);
    })();
    expect(pruneDelivered(e.store, Date.now() - 30 * DAY).outbox).toBe(12_000);
    expect(rows()).toEqual([]);
  });

  test("a chat whose delivered rows were all pruned keeps counting seq where it was", async () => {
    e = t.engine();
    e.webhook({ url: t.sink.url() });
    const chatId = "491709999999@c.us";
    for (let i = 0; i < 3; i++) e.send(textMessage({ chatId }));
    await t.sink.waitFor(3);
    await waitUntil(() => e.outbox().every((r) => r.status === "delivered"));
    // Queued and delivered 40 days ago (retention counts from the delivery).
    e.store.sqlite.query("UPDATE outbox SET created_at = ?1, delivered_at = ?1").run(Date.now() - 40 * DAY);
    expect(pruneDelivered(e.store, Date.now() - 30 * DAY).outbox).toBe(3);

    e.send(textMessage({ chatId }));
    const got = await t.sink.waitFor(4);
    expect(got.map((r) => (r.json as { seq: number }).seq)).toEqual([1, 2, 3, 4]);
  });
});

describe("auto-disable", () => {
  const webhookState = (id: string) =>
    e.store.sqlite.query("SELECT enabled, disabled_reason, disabled_at, failing_since FROM webhooks WHERE id = ?").get(id) as {
      enabled: number;
      disabled_reason: string | null;
      disabled_at: number | null;
      failing_since: number | null;
    };
  const failingSince = (id: string, at: number | null) => e.store.sqlite.query("UPDATE webhooks SET failing_since = ? WHERE id = ?").run(at, id);

  test("an endpoint failing for 5 days or more is disabled with the reason; others are left alone", async () => {
    e = t.engine();
    await e.worker.stop(0);
    const now = Date.now();
    const cases = [
      { failingFor: 6 * DAY, enabled: true, expect: { enabled: 0, disabled_reason: LONG_FAILING_REASON, disabled_at: now } },
      { failingFor: 5 * DAY, enabled: true, expect: { enabled: 0, disabled_reason: LONG_FAILING_REASON, disabled_at: now } },
      { failingFor: 5 * DAY - 60_000, enabled: true, expect: { enabled: 1, disabled_reason: null, disabled_at: null } },
      { failingFor: null, enabled: true, expect: { enabled: 1, disabled_reason: null, disabled_at: null } },
      // Disabled earlier for another reason: that reason stays.
      { failingFor: 9 * DAY, enabled: false, expect: { enabled: 0, disabled_reason: "disabled by an admin", disabled_at: now - DAY } },
    ];
    const ids = cases.map((c) => {
      const hook = e.webhook({ url: t.sink.url(), enabled: c.enabled, ...(c.enabled ? {} : { disabledReason: "disabled by an admin", disabledAt: now - DAY }) });
      failingSince(hook.id, c.failingFor === null ? null : now - c.failingFor);
      return hook.id;
    });

    expect(disableFailingSince(e.store, longFailing(now), now)).toBe(2);
    expect(ids.map((id) => webhookState(id)).map(({ failing_since: _, ...rest }) => rest)).toEqual(cases.map((c) => c.expect));
  });

  test("a failed attempt on an endpoint failing for 5 days disables it at once; its row stays queued", async () => {
    e = t.engine();
    t.sink.respondWith({ status: 500 });
    const hook = e.webhook({ url: t.sink.url() });
    failingSince(hook.id, Date.now() - 5 * DAY);
    e.send(textMessage());
    await waitUntil(() => webhookState(hook.id).enabled === 0);
    expect(webhookState(hook.id).disabled_reason).toBe(LONG_FAILING_REASON);
    expect(e.outbox().map((r) => r.status)).toEqual(["pending"]);
  });

  test("one delivered attempt ends the failing run", async () => {
    e = t.engine();
    const hook = e.webhook({ url: t.sink.url() });
    failingSince(hook.id, Date.now() - 4 * DAY);
    e.send(textMessage());
    await waitUntil(() => e.outbox()[0]?.status === "delivered");
    expect(webhookState(hook.id)).toMatchObject({ enabled: 1, failing_since: null });
  });
});

describe("lease sweep", () => {
  /**
   * Queues a message and claims it with a lease that already ran out, before the worker's
   * own pass runs (ingest only schedules it): the state a worker that died mid-send leaves.
   */
  function strandedRow(webhookId: string, chatId: string, leaseMs = -1): string {
    e.send(textMessage({ chatId }));
    const [row] = claim(e.store.sqlite, webhookId, 1, Date.now(), leaseMs);
    return row!.id;
  }
  const statusOf = (id: string) => (e.store.sqlite.query("SELECT status FROM outbox WHERE id = ?").get(id) as { status: string }).status;

  test("a row in flight with an expired lease is requeued, then delivered with the same webhook-id; a live lease is left alone", async () => {
    e = t.engine();
    const hook = e.webhook({ url: t.sink.url() });
    const stranded = strandedRow(hook.id, "1@c.us");
    const live = strandedRow(hook.id, "2@c.us", 60_000);
    await Bun.sleep(200);
    // The worker alone never touches a leased row.
    expect(t.sink.requests).toHaveLength(0);

    expect(releaseExpiredLeases(e.store, Date.now())).toBe(1);
    e.worker.wake();
    const [got] = await t.sink.waitFor(1);
    expect(got!.headers["webhook-id"]).toBe(stranded);
    await waitUntil(() => statusOf(stranded) === "delivered");
    expect(statusOf(live)).toBe("in_flight");
  });

  test("startJobs runs the sweep every second, and stop() stops it", async () => {
    e = t.engine();
    const hook = e.webhook({ url: t.sink.url() });
    const jobs = startJobs({
      store: e.store,
      log: silentLogger,
      runRetention: (now) => runRetention(e.store, "/nonexistent", { deliveredDays: 30, deadLetterDays: null, messageDays: null, mediaTtlMs: 7 * DAY }, now),
      wakeDelivery: e.worker.wake,
      disableLongFailing: (now) => disableFailingSince(e.store, longFailing(now), now),
    });
    try {
      const stranded = strandedRow(hook.id, "1@c.us");
      const [got] = await t.sink.waitFor(1, 1_500);
      expect(got!.headers["webhook-id"]).toBe(stranded);
    } finally {
      jobs.stop();
    }
    const after = strandedRow(hook.id, "2@c.us");
    // The sweep runs at each whole second: past the next one, a running sweep would have requeued it.
    await Bun.sleep(1_000 - (Date.now() % 1_000) + 200);
    expect(t.sink.requests).toHaveLength(1);
    expect(statusOf(after)).toBe("in_flight");
  });
});
