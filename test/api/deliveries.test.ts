// The delivery log API against a real worker and receiver: test events, listings with
// filters, one delivery with attempts, replays with the same webhook-id, dead letters,
// queue stats, /metrics.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { startTestApp, type TestApp } from "../support/app.ts";
import { startSink, type Sink } from "../support/sink.ts";
import { textMessage } from "../support/delivery.ts";
import { ingestMessage } from "../../src/ingest/ingest.ts";
import { waitUntil } from "../support/wait.ts";

let sink: Sink;
let t: TestApp;
beforeAll(async () => {
  sink = await startSink();
});
afterAll(() => sink.close());
afterEach(async () => {
  await t?.close();
  sink.reset();
});

async function webhook(extra: Record<string, unknown> = {}): Promise<string> {
  const res = await t.call("POST", "/v1/webhooks", { body: { url: sink.url("/hook"), events: ["message.received"], ...extra } });
  expect(res.status).toBe(201);
  return res.body.id;
}

async function delivery(hook: string, id: string) {
  return (await t.call("GET", `/v1/webhooks/${hook}/deliveries/${id}`)).body;
}

describe("test event", () => {
  test("POST /test queues a webhook.test that arrives signed, with its delivery id as webhook-id", async () => {
    t = startTestApp({}, { deliver: true });
    const hook = await webhook();
    const res = await t.call("POST", `/v1/webhooks/${hook}/test`);
    expect(res.status).toBe(202);
    expect(res.body.delivery_id).toMatch(/^msg_/);
    const [got] = await sink.waitFor(1);
    expect(got!.headers["webhook-id"]).toBe(res.body.delivery_id);
    expect(got!.headers["webhook-signature"]).toMatch(/^v1,/);
    expect((got!.json as { event: string }).event).toBe("webhook.test");
    await waitUntil(async () => (await delivery(hook, res.body.delivery_id)).status === "delivered");
    const d = await delivery(hook, res.body.delivery_id);
    expect(d).toMatchObject({ event: "webhook.test", status: "delivered", attempts: 1, last_status_code: 200, history: false });
    expect(d.attempt_log).toHaveLength(1);
    expect(d.attempt_log[0]).toMatchObject({ attempt: 1, status_code: 200, error_class: null, response_excerpt: "ok", outcome: "delivered" });
  });

  test("unknown webhook → 404; read key → 403; nothing queued", async () => {
    t = startTestApp();
    expect((await t.call("POST", "/v1/webhooks/wh_06H0TK2F3M4PQ9QXCGMARXVFNB/test")).body.error.code).toBe("not_found");
    const hook = await webhook();
    const res = await t.call("POST", `/v1/webhooks/${hook}/test`, { key: t.readKey });
    expect(res.status).toBe(403);
    expect(t.deps.store.sqlite.query("SELECT COUNT(*) n FROM outbox").get()).toEqual({ n: 0 });
  });
});

describe("listing", () => {
  test("newest first, filtered by chat and status, paged with a cursor", async () => {
    t = startTestApp({}, { deliver: true });
    const hook = await webhook();
    for (const chat of ["1@c.us", "2@c.us", "1@c.us"]) ingestMessage(t.ingest, textMessage({ chatId: chat }));
    await sink.waitFor(3);
    await waitUntil(async () => (await t.call("GET", `/v1/webhooks/${hook}/deliveries?status=delivered`)).body.data.length === 3);

    const all = (await t.call("GET", `/v1/webhooks/${hook}/deliveries`)).body;
    expect(all.data.map((d: { chat_id: string }) => d.chat_id)).toEqual(["1@c.us", "2@c.us", "1@c.us"]);
    expect(all.data.map((d: { seq: number }) => d.seq)).toEqual([2, 1, 1]);
    expect(all.next_cursor).toBeNull();

    const chat1 = (await t.call("GET", `/v1/webhooks/${hook}/deliveries?chat_id=1@c.us`)).body;
    expect(chat1.data).toHaveLength(2);
    expect((await t.call("GET", `/v1/webhooks/${hook}/deliveries?status=pending`)).body.data).toEqual([]);

    const first = (await t.call("GET", `/v1/webhooks/${hook}/deliveries?limit=2`)).body;
    expect(first.data).toHaveLength(2);
    expect(first.next_cursor).toBeString();
    const second = (await t.call("GET", `/v1/webhooks/${hook}/deliveries?limit=2&cursor=${first.next_cursor}`)).body;
    expect(second.data).toHaveLength(1);
    expect(second.next_cursor).toBeNull();
    expect([...first.data, ...second.data].map((d: { id: string }) => d.id)).toEqual(all.data.map((d: { id: string }) => d.id));

    const future = new Date(Date.now() + 60_000).toISOString();
    expect((await t.call("GET", `/v1/webhooks/${hook}/deliveries?since=${future}`)).body.data).toEqual([]);
    expect((await t.call("GET", `/v1/webhooks/${hook}/deliveries?until=${future}`)).body.data).toHaveLength(3);
  });

  test.each([
    ["status=lost", 422, "validation_failed"],
    ["since=yesterday", 422, "validation_failed"],
    ["since=2026-11-24T10:00:00Z&until=2026-11-23T10:00:00Z", 422, "validation_failed"],
    ["limit=0", 422, "validation_failed"],
    ["cursor=bm90LWEtY3Vyc29y", 400, "invalid_cursor"],
    ["colour=red", 422, "validation_failed"],
  ])("GET deliveries?%s → %i %s", async (query, status, code) => {
    t = startTestApp();
    const hook = await webhook();
    const res = await t.call("GET", `/v1/webhooks/${hook}/deliveries?${query}`);
    expect(res.status).toBe(status);
    expect(res.body.error.code).toBe(code);
    expect(res.body.error.message).not.toContain("    at ");
  });

  test("unknown webhook or delivery → 404", async () => {
    t = startTestApp();
    const hook = await webhook();
    expect((await t.call("GET", "/v1/webhooks/wh_06H0TK2F3M4PQ9QXCGMARXVFNB/deliveries")).status).toBe(404);
    const res = await t.call("GET", `/v1/webhooks/${hook}/deliveries/msg_06H0TK9Q1D2B4XJ8ZC3E5RNWMA`);
    expect(res.status).toBe(404);
    expect(res.body.error.message).toContain("msg_06H0TK9Q1D2B4XJ8ZC3E5RNWMA");
  });
});

describe("dead letters and replay", () => {
  test("an event that exhausts its schedule is a dead letter; replaying it resends the same webhook-id", async () => {
    t = startTestApp({}, { deliver: true });
    const hook = await webhook({ retry_schedule_s: [1] });
    sink.respondWith([{ status: 500, body: "boom" }, { status: 500, body: "boom" }]);
    ingestMessage(t.ingest, textMessage());
    await sink.waitFor(2, 5_000);
    await waitUntil(async () => (await t.call("GET", `/v1/webhooks/${hook}/dead-letters`)).body.data.length === 1, 5_000);
    const [dead] = (await t.call("GET", `/v1/webhooks/${hook}/dead-letters`)).body.data;
    expect(dead).toMatchObject({ status: "failed", attempts: 2, last_status_code: 500 });
    const logged = await delivery(hook, dead.id);
    expect(logged.attempt_log.map((a: { outcome: string }) => a.outcome)).toEqual(["retry", "dead"]);
    expect(logged.attempt_log[0].response_excerpt).toBe("boom");
    expect((await t.call("GET", `/v1/webhooks/${hook}/stats`)).body).toMatchObject({ failed: 1, pending: 0 });

    const replay = await t.call("POST", `/v1/webhooks/${hook}/deliveries/${dead.id}/replay`);
    expect(replay.status).toBe(202);
    expect(replay.body).toEqual({ replayed: 1 });
    const requests = await sink.waitFor(3);
    expect(requests.map((r) => r.headers["webhook-id"])).toEqual([dead.id, dead.id, dead.id]);
    await waitUntil(async () => (await delivery(hook, dead.id)).status === "delivered");
    expect((await t.call("GET", `/v1/webhooks/${hook}/dead-letters`)).body.data).toEqual([]);
  });

  test("replay since a time resends every event of the window in per-chat order with the same ids", async () => {
    t = startTestApp({}, { deliver: true });
    const hook = await webhook();
    const since = new Date().toISOString();
    for (let i = 0; i < 4; i++) ingestMessage(t.ingest, textMessage({ chatId: `${i % 2}@c.us` }));
    const first = await sink.waitFor(4);
    await waitUntil(async () => (await t.call("GET", `/v1/webhooks/${hook}/stats`)).body.delivered === 4);
    const res = await t.call("POST", `/v1/webhooks/${hook}/replay`, { body: { since } });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ replayed: 4 });
    const all = await sink.waitFor(8);
    const again = all.slice(4);
    expect(new Set(again.map((r) => r.headers["webhook-id"]))).toEqual(new Set(first.map((r) => r.headers["webhook-id"])));
    for (const chat of ["0@c.us", "1@c.us"]) {
      const seqs = again.filter((r) => (r.json as { chat_id: string }).chat_id === chat).map((r) => (r.json as { seq: number }).seq);
      expect(seqs).toEqual([1, 2]);
    }
  });

  test("replay of a delivery in flight → 409; bad bodies → 422; nothing changes", async () => {
    t = startTestApp();
    const hook = await webhook();
    const id = (await t.call("POST", `/v1/webhooks/${hook}/test`)).body.delivery_id;
    t.deps.store.sqlite.query("UPDATE outbox SET status = 'in_flight' WHERE id = ?").run(id);
    const res = await t.call("POST", `/v1/webhooks/${hook}/deliveries/${id}/replay`);
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe("conflict");
    for (const body of [{}, { since: "soon" }, { since: "2026-11-24T10:00:00Z", until: "2026-11-01T00:00:00Z" }, { since: "2026-11-24T10:00:00Z", extra: 1 }]) {
      const bad = await t.call("POST", `/v1/webhooks/${hook}/replay`, { body });
      expect(bad.status).toBe(422);
      expect(bad.body.error.code).toBe("validation_failed");
    }
    expect(t.deps.store.sqlite.query("SELECT status FROM outbox").all()).toEqual([{ status: "in_flight" }]);
  });
});

describe("queue stats", () => {
  test("pending, in flight and the age of the oldest undelivered event while the receiver is down", async () => {
    t = startTestApp();
    const hook = await webhook();
    for (let i = 0; i < 3; i++) ingestMessage(t.ingest, textMessage({ chatId: "9@c.us" }));
    await Bun.sleep(20);
    const stats = (await t.call("GET", `/v1/webhooks/${hook}/stats`)).body;
    expect(stats).toMatchObject({ pending: 3, in_flight: 0, delivered: 0, failed: 0, paused_until: null, enabled: true, disabled_reason: null });
    expect(stats.oldest_pending_age_s).toBeGreaterThan(0.01);
    t.deps.store.sqlite.query("UPDATE webhooks SET paused_until = ?").run(Date.now() + 60_000);
    expect((await t.call("GET", `/v1/webhooks/${hook}/stats`)).body.paused_until).toBeString();
  });

  test("changing ordering recomputes which rows may go: per_chat leaves one head per chat", async () => {
    t = startTestApp();
    const hook = await webhook({ ordering: "none" });
    for (let i = 0; i < 4; i++) ingestMessage(t.ingest, textMessage({ chatId: `${i % 2}@c.us` }));
    const ready = () => t.deps.store.sqlite.query("SELECT chat_key, seq FROM outbox WHERE ready = 1 ORDER BY chat_key, seq").all();
    expect(ready()).toHaveLength(4);
    expect((await t.call("PATCH", `/v1/webhooks/${hook}`, { body: { ordering: "per_chat" } })).status).toBe(200);
    expect(ready()).toEqual([
      { chat_key: "0@c.us", seq: 1 },
      { chat_key: "1@c.us", seq: 1 },
    ]);
  });
});

describe("/metrics", () => {
  test("needs a key unless WAHOOK_METRICS_PUBLIC; shows outcomes, durations, depths, ingest counts", async () => {
    t = startTestApp({}, { deliver: true });
    const hook = await webhook();
    ingestMessage(t.ingest, textMessage({ accountId: "acc_one" }));
    await sink.waitFor(1);
    await waitUntil(async () => (await t.call("GET", `/v1/webhooks/${hook}/stats`)).body.delivered === 1);
    ingestMessage(t.ingest, textMessage({ accountId: "acc_one", chatId: "5@c.us" }));
    const anonymous = await t.app.handle(new Request("http://localhost/metrics"));
    expect(anonymous.status).toBe(401);
    const res = await t.app.handle(new Request("http://localhost/metrics", { headers: { authorization: `Bearer ${t.readKey}` } }));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toStartWith("text/plain");
    const text = await res.text();
    expect(text).toContain(`wahook_deliveries_total{webhook_id="${hook}",outcome="delivered"} 1`);
    expect(text).toContain("wahook_delivery_attempt_duration_seconds_count 1");
    expect(text).toContain('wahook_messages_ingested_total{account_id="acc_one"} 2');
    expect(text).toMatch(/wahook_queue_depth\{webhook_id="wh_[^"]+",status="(pending|in_flight)"\} 1/);
    expect(text).toMatch(/wahook_queue_oldest_pending_age_seconds\{webhook_id="wh_[^"]+"\} [\d.]+/);
  });

  test("public metrics answer without a key", async () => {
    t = startTestApp({ WAHOOK_METRICS_PUBLIC: "true" });
    const res = await t.app.handle(new Request("http://localhost/metrics"));
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("# TYPE wahook_deliveries_total counter");
  });
});
