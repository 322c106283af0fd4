// Backfills through the API on stored history, with a real worker and runner: what the
// receiver gets (all of it, once, per chat in time order, marked history), progress,
// dedupe against what was sent live, pause/resume/cancel, the finished event, bad input.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import type { Message } from "../../src/domain.ts";
import { ingestHistory } from "../../src/ingest/history.ts";
import { ingestMessage } from "../../src/ingest/ingest.ts";
import { insertAccount } from "../../src/store/accounts.ts";
import { startTestApp, type TestApp } from "../support/app.ts";
import { textMessage } from "../support/delivery.ts";
import { startSink, type Sink, type SinkRequest } from "../support/sink.ts";
import { waitUntil } from "../support/wait.ts";

let sink: Sink;
let t: TestApp;
let account: string;
beforeAll(async () => {
  sink = await startSink();
});
afterAll(() => sink.close());
beforeEach(() => {
  t = startTestApp({}, { deliver: true });
  account = insertAccount(t.deps.store, { name: "Sales", email: null }).id;
});
afterEach(async () => {
  await t.close();
  sink.reset();
});

const CHATS = ["491700000001@c.us", "491700000002@c.us", "120363000000000001@g.us"];

/** `perChat` history messages in each chat, stored in a shuffled order (as chunks arrive). */
function storeHistory(perChat: number, base = 1_700_000_000): Message[] {
  const list: Message[] = [];
  CHATS.forEach((chatId, c) => {
    for (let i = 0; i < perChat; i++) {
      list.push(
        textMessage({
          accountId: account,
          id: `H${c}-${String(i).padStart(4, "0")}`,
          chatId,
          chatType: chatId.endsWith("@g.us") ? "group" : "individual",
          direction: i % 3 === 0 ? "sent" : "received",
          timestamp: base + i * 60,
          text: `history ${c}/${i}`,
          history: true,
        }),
      );
    }
  });
  // Newest chunk first, as WhatsApp sends it: stored order is not time order.
  list.reverse();
  ingestHistory({ store: t.deps.store, mediaMaxBytes: 1e6, settleMs: 0, autoRatePerS: 20 }, account, list);
  return list;
}

async function webhook(extra: Record<string, unknown> = {}): Promise<string> {
  const res = await t.call("POST", "/v1/webhooks", { body: { url: sink.url("/h"), events: ["message.received", "message.sent"], ...extra } });
  expect(res.status).toBe(201);
  return res.body.id;
}

async function backfill(body: Record<string, unknown>) {
  const res = await t.call("POST", `/v1/accounts/${account}/backfills`, { body });
  expect(res.status).toBe(201);
  return res.body;
}

async function waitState(id: string, state: string, timeoutMs = 10_000) {
  let last: any;
  await waitUntil(
    async () => {
      last = (await t.call("GET", `/v1/accounts/${account}/backfills/${id}`)).body;
      return last.state === state;
    },
    timeoutMs,
    `backfill ${state}`,
  ).catch((e) => {
    throw new Error(`${(e as Error).message}; last: ${JSON.stringify(last)}`);
  });
  return last;
}

/** Once a job stops queueing, what it had queued still goes; this waits for that. */
async function waitQueuedSent(id: string) {
  await waitUntil(async () => (await t.call("GET", `/v1/accounts/${account}/backfills/${id}`)).body.progress.pending === 0, 5_000, "queued rows sent");
}

const body = (r: SinkRequest) => r.json as any;
const byChat = (requests: SinkRequest[]) => {
  const out = new Map<string, any[]>();
  for (const r of requests) out.set(body(r).chat_id, [...(out.get(body(r).chat_id) ?? []), body(r)]);
  return out;
};

describe("delivery", () => {
  test("every selected message once, per chat in time order with contiguous seq, marked history; progress ends at 100 %", async () => {
    await webhook();
    const stored = storeHistory(20);
    const job = await backfill({ rate_per_s: 500 });
    expect(job).toMatchObject({ account_id: account, auto: false, rate_per_s: 500, redeliver: false, chat_ids: null });
    const done = await waitState(job.id, "finished");
    expect(done.progress).toEqual({ total: 60, enqueued: 60, skipped: 0, delivered: 60, failed: 0, pending: 0, percent: 100, eta_s: null });
    expect(done.finished_at).toBeString();

    expect(sink.requests).toHaveLength(60);
    expect(new Set(sink.requests.map((r) => body(r).message.id))).toEqual(new Set(stored.map((m) => m.id)));
    for (const [, list] of byChat(sink.requests)) {
      expect(list.map((b) => Number(b.timestamp))).toEqual(list.map((b) => Number(b.timestamp)).sort((a, b) => a - b));
      expect(list.map((b) => b.seq)).toEqual(list.map((_, i) => i + 1));
      for (const b of list) {
        expect(b.history).toBe(true);
        expect(b.event).toBe(b.direction === "sent" ? "message.sent" : "message.received");
      }
    }
  });

  test("a message already delivered live is skipped; a second identical backfill sends nothing; redeliver sends all again", async () => {
    await webhook();
    const live = textMessage({ accountId: account, chatId: CHATS[0], id: "LIVE-1", timestamp: 1_800_000_000 });
    ingestMessage(t.ingest, live);
    await sink.waitFor(1);
    storeHistory(5);

    const first = await waitState((await backfill({ rate_per_s: 500 })).id, "finished");
    expect(first.progress).toMatchObject({ total: 16, enqueued: 15, skipped: 1, delivered: 15 });
    expect(sink.requests).toHaveLength(16);
    expect(sink.requests.filter((r) => body(r).message.id === "LIVE-1")).toHaveLength(1);

    const second = await waitState((await backfill({ rate_per_s: 500 })).id, "finished");
    // Nothing queued (enqueued: 0), so nothing can arrive later.
    expect(second.progress).toMatchObject({ total: 16, enqueued: 0, skipped: 16, delivered: 0, percent: 100 });
    expect(sink.requests).toHaveLength(16);

    const again = await waitState((await backfill({ rate_per_s: 500, redeliver: true })).id, "finished");
    expect(again.progress).toMatchObject({ total: 16, enqueued: 16, skipped: 0, delivered: 16 });
    expect(sink.requests).toHaveLength(32);
    // A redelivery is a new event for the receiver: a new webhook-id and the next seq, marked history.
    const relive = sink.requests.filter((r) => body(r).message.id === "LIVE-1");
    expect(relive.map((r) => body(r).history)).toEqual([false, true]);
    expect(relive[0]!.headers["webhook-id"]).not.toBe(relive[1]!.headers["webhook-id"]);
  });

  test("chat_ids, since and until select; a webhook gets only the trigger it subscribes to", async () => {
    await webhook();
    const sentOnly = await webhook({ events: ["message.sent"] });
    storeHistory(12);
    const job = await backfill({
      chat_ids: [CHATS[1]],
      since: new Date((1_700_000_000 + 3 * 60) * 1000).toISOString(),
      until: new Date((1_700_000_000 + 8 * 60) * 1000).toISOString(),
      rate_per_s: 500,
    });
    expect(job.webhook_ids).toHaveLength(2);
    const done = await waitState(job.id, "finished");
    // Messages 3..8 of chat 1: six received or sent to the first webhook, the two sent (3, 6) to the sent-only one.
    expect(done.progress).toMatchObject({ total: 8, delivered: 8 });
    const ids = sink.requests.map((r) => body(r).message.id).sort();
    expect(ids).toEqual(["H1-0003", "H1-0003", "H1-0004", "H1-0005", "H1-0006", "H1-0006", "H1-0007", "H1-0008"]);
    expect(sink.requests.filter((r) => body(r).direction === "received").every((r) => r.headers["webhook-id"])).toBe(true);
    expect(sentOnly).toBeString();
  });

  test("webhook_ids limits the targets", async () => {
    const a = await webhook();
    await webhook({ description: "not this one" });
    storeHistory(2);
    const done = await waitState((await backfill({ webhook_ids: [a], rate_per_s: 500 })).id, "finished");
    expect(done.webhook_ids).toEqual([a]);
    expect(sink.requests).toHaveLength(6);
  });
});

describe("control", () => {
  test("pause stops queueing, resume continues where it stopped, nothing twice and nothing missing", async () => {
    await webhook();
    storeHistory(20);
    const job = await backfill({ rate_per_s: 20 });
    await sink.waitFor(10, 5_000);
    const paused = await t.call("POST", `/v1/accounts/${account}/backfills/${job.id}/pause`);
    expect(paused.status).toBe(200);
    expect(paused.body.state).toBe("paused");
    // Rows already queued (a small window) still go; then nothing: at 20/s a running job
    // would queue about six more in 300 ms.
    await waitQueuedSent(job.id);
    const atPause = sink.requests.length;
    await Bun.sleep(300);
    expect(sink.requests.length).toBe(atPause);
    expect(atPause).toBeLessThan(60);
    expect((await t.call("POST", `/v1/accounts/${account}/backfills/${job.id}/pause`)).body.error.code).toBe("backfill_state");

    const resumed = await t.call("POST", `/v1/accounts/${account}/backfills/${job.id}/resume`);
    expect(resumed.body.state).toBe("running");
    await t.call("PATCH", `/v1/accounts/${account}/backfills/${job.id}`, { body: { rate_per_s: 500 } });
    await waitState(job.id, "finished");
    const ids = sink.requests.map((r) => body(r).message.id);
    expect(ids).toHaveLength(60);
    expect(new Set(ids).size).toBe(60);
  });

  test("cancel ends the job: counts frozen, nothing more sent; ended jobs cannot be resumed or cancelled", async () => {
    await webhook();
    storeHistory(20);
    const job = await backfill({ rate_per_s: 10 });
    await sink.waitFor(3, 5_000);
    const cancelled = await t.call("POST", `/v1/accounts/${account}/backfills/${job.id}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.state).toBe("cancelled");
    // What was queued still goes; then nothing: at 10/s a running job would queue three more in 300 ms.
    await waitQueuedSent(job.id);
    const sent = sink.requests.length;
    expect(sent).toBeLessThan(30);
    await Bun.sleep(300);
    expect(sink.requests.length).toBe(sent);
    for (const action of ["resume", "cancel", "pause"]) {
      const res = await t.call("POST", `/v1/accounts/${account}/backfills/${job.id}/${action}`);
      expect({ action, status: res.status, code: res.body.error.code }).toEqual({ action, status: 409, code: "backfill_state" });
    }
    const after = (await t.call("GET", `/v1/accounts/${account}/backfills/${job.id}`)).body;
    expect(after.progress.total).toBe(60);
    expect(after.progress.percent).toBeLessThan(100);
  });

  test("backfill.finished reaches webhooks that subscribe to it, with the counts", async () => {
    const hook = await webhook({ events: ["message.received", "message.sent", "backfill.finished"] });
    storeHistory(3);
    const job = await backfill({ rate_per_s: 500 });
    await waitState(job.id, "finished");
    const finished = await sink.waitFor((rs) => rs.some((r) => body(r).event === "backfill.finished"));
    const event = body(finished.find((r) => body(r).event === "backfill.finished")!);
    expect(event).toMatchObject({
      event: "backfill.finished",
      account_id: account,
      backfill: { id: job.id, state: "finished", total: 9, enqueued: 9, skipped: 0, delivered: 9, failed: 0, error: null },
      seq: 1,
    });
    // It comes after every message of the job.
    expect(sink.requests.at(-1)!.json).toMatchObject({ event: "backfill.finished" });
    // The delivery log marks history as the payloads do: the messages, not the announcement.
    const log = (await t.call("GET", `/v1/webhooks/${hook}/deliveries?limit=100`)).body.data as { event: string; history: boolean }[];
    expect(new Set(log.map((d) => `${d.event} ${d.history}`))).toEqual(new Set(["message.received true", "message.sent true", "backfill.finished false"]));
  });

  test("list, newest first, with a cursor", async () => {
    await webhook();
    storeHistory(1);
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await backfill({ rate_per_s: 500 })).id);
    const first = await t.call("GET", `/v1/accounts/${account}/backfills?limit=2`);
    expect(first.body.data.map((b: any) => b.id)).toEqual([ids[2], ids[1]]);
    const second = await t.call("GET", `/v1/accounts/${account}/backfills?limit=2&cursor=${first.body.next_cursor}`);
    expect(second.body.data.map((b: any) => b.id)).toEqual([ids[0]]);
    expect(second.body.next_cursor).toBeNull();
  });
});

describe("bad input", () => {
  // Every row names its field (null when the error is not about one field): bun passes a
  // `done` callback in place of a missing last element.
  const cases: [string, () => string, unknown, number, string, string | null][] = [
    ["unknown account", () => "/v1/accounts/acc_06H0TJZ8W1M2N3P4Q5R6S7T8V9/backfills", {}, 404, "not_found", null],
    ["unknown webhook", () => `/v1/accounts/${account}/backfills`, { webhook_ids: ["wh_06H0TK2F3M4PQ9QXCGMARXVFNB"] }, 422, "unknown_webhook", "body.webhook_ids"],
    ["unknown chat", () => `/v1/accounts/${account}/backfills`, { chat_ids: ["15550000000@c.us"] }, 422, "unknown_chat", "body.chat_ids"],
    ["since after until", () => `/v1/accounts/${account}/backfills`, { since: "2026-11-02T00:00:00Z", until: "2026-11-01T00:00:00Z" }, 422, "validation_failed", "body.since"],
    ["since not a time", () => `/v1/accounts/${account}/backfills`, { since: "yesterday" }, 422, "validation_failed", "body.since"],
    ["rate 0", () => `/v1/accounts/${account}/backfills`, { rate_per_s: 0 }, 422, "validation_failed", "body.rate_per_s"],
    ["negative rate", () => `/v1/accounts/${account}/backfills`, { rate_per_s: -5 }, 422, "validation_failed", "body.rate_per_s"],
    ["rate as a string", () => `/v1/accounts/${account}/backfills`, { rate_per_s: "20" }, 422, "validation_failed", "body.rate_per_s"],
    ["older_per_chat 0", () => `/v1/accounts/${account}/backfills`, { older_per_chat: 0 }, 422, "validation_failed", "body.older_per_chat"],
    ["empty chat list", () => `/v1/accounts/${account}/backfills`, { chat_ids: [] }, 422, "validation_failed", "body.chat_ids"],
    ["extra field", () => `/v1/accounts/${account}/backfills`, { speed: "fast" }, 422, "validation_failed", "body.speed"],
    ["unknown backfill", () => `/v1/accounts/${account}/backfills/bf_06H0TM3D4E5F6G7H8J9K0M1N2P/pause`, undefined, 404, "not_found", null],
  ];

  test.each(cases)("%s", async (_name, path, requestBody, status, code, field) => {
    await webhook();
    storeHistory(1);
    const res = await t.call("POST", path(), { body: requestBody });
    expect({ status: res.status, code: res.body.error?.code }).toEqual({ status, code });
    expect(res.body.error.message.length).toBeGreaterThan(20);
    if (field) expect(res.body.error.details.map((d: { field: string }) => d.field)).toContain(field);
    expect(t.deps.store.sqlite.query("SELECT COUNT(*) n FROM backfills").get()).toEqual({ n: 0 });
  });

  test("a webhook that does not take this account, no webhook at all, a read key", async () => {
    storeHistory(1);
    const none = await t.call("POST", `/v1/accounts/${account}/backfills`, { body: {} });
    expect({ status: none.status, code: none.body.error.code }).toEqual({ status: 422, code: "no_webhook" });
    const other = await webhook({ account_ids: ["acc_other"] });
    const refused = await t.call("POST", `/v1/accounts/${account}/backfills`, { body: { webhook_ids: [other] } });
    expect({ status: refused.status, code: refused.body.error.code }).toEqual({ status: 422, code: "unknown_webhook" });
    expect(refused.body.error.message).toContain(other);
    await webhook();
    const read = await t.call("POST", `/v1/accounts/${account}/backfills`, { body: {}, key: t.readKey });
    expect(read.status).toBe(403);
    expect(t.deps.store.sqlite.query("SELECT COUNT(*) n FROM backfills").get()).toEqual({ n: 0 });
  });
});
