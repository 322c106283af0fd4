// Per-chat order, isolation between endpoints, rate limits, bounded memory.
import { describe, expect, test } from "bun:test";
import { deliveryHarness, textMessage, type Engine } from "../support/delivery.ts";
import type { SinkRequest } from "../support/sink.ts";
import { waitUntil } from "../support/wait.ts";

const t = deliveryHarness();
let e: Engine;

const body = (r: SinkRequest) => r.json as { chat_id: string; seq: number; message: { text: string } };
const chatA = "111@c.us";
const chatB = "222@c.us";

describe("order", () => {
  test("a failing chat holds back only itself; it then arrives in order with contiguous seq", async () => {
    e = t.engine();
    let failuresLeft = 3;
    t.sink.respondWith((req) => (body(req).chat_id === chatA && failuresLeft-- > 0 ? { status: 500 } : { status: 200 }));
    e.webhook({ url: t.sink.url(), retrySchedule: [150, 150, 150] });
    for (let i = 0; i < 5; i++) {
      e.send(textMessage({ chatId: chatA, text: `a${i}` }));
      e.send(textMessage({ chatId: chatB, text: `b${i}` }));
    }
    await t.sink.waitFor((rs) => rs.filter((r) => r.headers["webhook-id"] && body(r).chat_id === chatA).length >= 8, 5_000);
    const delivered = (chat: string) => t.sink.requests.filter((r) => body(r).chat_id === chat);
    // Chat B was done while chat A was still failing its first event.
    const lastB = delivered(chatB).at(-1)!.receivedAt;
    const firstASuccess = delivered(chatA)[3]!.receivedAt;
    expect(delivered(chatB).map((r) => body(r).message.text)).toEqual(["b0", "b1", "b2", "b3", "b4"]);
    expect(lastB).toBeLessThan(firstASuccess);
    // Chat A: the first event 4 times (3 failures), then the rest in order.
    expect(delivered(chatA).map((r) => body(r).message.text)).toEqual(["a0", "a0", "a0", "a0", "a1", "a2", "a3", "a4"]);
    expect(delivered(chatA).slice(3).map((r) => body(r).seq)).toEqual([1, 2, 3, 4, 5]);
    expect(delivered(chatB).map((r) => body(r).seq)).toEqual([1, 2, 3, 4, 5]);
  });

  test("per_chat sends one event of a chat at a time; none sends them in parallel", async () => {
    for (const ordering of ["per_chat", "none"] as const) {
      e = t.engine();
      let open = 0;
      let maxOpen = 0;
      t.sink.respondWith(async () => {
        maxOpen = Math.max(maxOpen, ++open);
        await Bun.sleep(30);
        open--;
        return { status: 200 };
      });
      e.webhook({ url: t.sink.url(), ordering, maxConcurrency: 8 });
      for (let i = 0; i < 8; i++) e.send(textMessage({ chatId: chatA }));
      await t.sink.waitFor(8);
      expect({ ordering, maxOpen: maxOpen > 1 ? "parallel" : "serial" }).toEqual({ ordering, maxOpen: ordering === "none" ? "parallel" : "serial" });
      await e.close();
      t.sink.reset();
    }
    e = t.engine();
  });
});

describe("isolation and pacing", () => {
  test("an endpoint that hangs does not delay another endpoint", async () => {
    e = t.engine({ timeouts: { totalMs: 3_000, idleMs: 3_000 } });
    t.sink.respondWith((req) => (req.path === "/slow" ? { hang: true } : { status: 200 }));
    e.webhook({ url: t.sink.url("/slow"), ordering: "none", maxConcurrency: 4 });
    e.webhook({ url: t.sink.url("/fast"), ordering: "none" });
    for (let i = 0; i < 4; i++) e.send(textMessage({ chatId: `${i}@c.us` }));
    await t.sink.waitFor((rs) => rs.filter((r) => r.path === "/slow").length === 4);
    const sentAt = performance.now();
    e.send(textMessage({ chatId: "fast@c.us" }));
    const [fast] = (await t.sink.waitFor((rs) => rs.some((r) => r.path === "/fast" && body(r).chat_id === "fast@c.us"))).filter(
      (r) => body(r).chat_id === "fast@c.us",
    );
    expect(fast!.receivedMono - sentAt).toBeLessThan(100);
  });

  test("max_concurrency bounds requests in flight to one endpoint", async () => {
    e = t.engine();
    let open = 0;
    let maxOpen = 0;
    t.sink.respondWith(async () => {
      maxOpen = Math.max(maxOpen, ++open);
      await Bun.sleep(20);
      open--;
      return { status: 200 };
    });
    e.webhook({ url: t.sink.url(), ordering: "none", maxConcurrency: 3 });
    for (let i = 0; i < 15; i++) e.send(textMessage({ chatId: `${i}@c.us` }));
    await t.sink.waitFor(15);
    expect(maxOpen).toBe(3);
  });

  test("rate_limit_per_s paces requests", async () => {
    e = t.engine();
    e.webhook({ url: t.sink.url(), ordering: "none", rateLimitPerS: 20 });
    for (let i = 0; i < 30; i++) e.send(textMessage({ chatId: `${i}@c.us` }));
    const got = await t.sink.waitFor(30, 5_000);
    const span = got.at(-1)!.receivedMono - got[0]!.receivedMono;
    // A burst of 20, then 10 more at 20/s: about 500 ms.
    expect(span).toBeGreaterThan(400);
    expect(span).toBeLessThan(1_500);
  });
});

describe("bounded memory", () => {
  test("100,000 pending rows with the receiver down are not loaded: at most max_concurrency in flight", async () => {
    e = t.engine();
    const hook = e.webhook({ url: "http://127.0.0.1:1/down", ordering: "none", maxConcurrency: 4, retrySchedule: [3_600_000] });
    e.worker.stop(0);
    const { sqlite } = e.store;
    const now = Date.now();
    sqlite.transaction(() => {
      const insert = sqlite.query(
        `INSERT INTO outbox (id, webhook_id, event, chat_key, seq, priority, data, status, ready, attempts, available_at, created_at)
         VALUES (?, ?, 'webhook.test', ?, ?, 0, ?, 'pending', 1, 0, ?, ?)`,
      );
      const data = JSON.stringify(textMessage());
      for (let i = 0; i < 100_000; i++) insert.run(`msg_${String(i).padStart(26, "0")}`, hook.id, `c${i % 500}`, i, data, now, now);
    })();
    Bun.gc(true);
    const heapBefore = process.memoryUsage().heapUsed;
    e.worker.start();
    await waitUntil(() => (sqlite.query("SELECT COUNT(*) n FROM delivery_attempts").get() as { n: number }).n >= 40, 10_000);
    const inFlight = (sqlite.query("SELECT COUNT(*) n FROM outbox WHERE status = 'in_flight'").get() as { n: number }).n;
    expect(inFlight).toBeLessThanOrEqual(4);
    Bun.gc(true);
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(20 * 1024 * 1024);
  });
});
