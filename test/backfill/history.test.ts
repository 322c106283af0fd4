// History from the emulated phone through the real daemon: stored once at pairing, never
// delivered by itself; a backfill sends it paced, per chat in time order, without holding
// up live messages; older messages fetched from the phone on request; `include_history`
// webhooks get history through an automatic backfill.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { SinkRequest } from "../support/sink.ts";
import { startWaWorld, type WaWorld } from "../support/wa.ts";
import { waitUntil } from "../support/wait.ts";

const PHONE = "15550004001";
let w: WaWorld;
let account: string;
let hook: string;

beforeAll(async () => {
  w = await startWaWorld({ seed: "backfill-history" });
  hook = await w.webhook({ max_concurrency: 16 });
  w.emu.device(PHONE).setHistory({ enabled: true, messages: 5_000, chats: 50, chunks: 4 });
  account = await w.pair(PHONE);
}, 30_000);
afterAll(() => w.close());

const stored = (where = "1") =>
  (w.daemon.store.sqlite.query(`SELECT COUNT(*) n FROM messages WHERE account_id = ? AND ${where}`).get(account) as { n: number }).n;
const body = (r: SinkRequest) => r.json as any;

async function finished(id: string, timeoutMs: number) {
  let last: any;
  await waitUntil(
    async () => {
      last = (await w.api("GET", `/v1/accounts/${account}/backfills/${id}`)).body;
      return last.state === "finished";
    },
    timeoutMs,
    "backfill finished",
  ).catch((e) => {
    throw new Error(`${(e as Error).message}; last: ${JSON.stringify(last)}`);
  });
  return last;
}

test("5,000 history messages over 50 chats are stored once at pairing, chats by phone, and nothing is delivered", async () => {
  await waitUntil(() => stored("history = 1") === 5_000, 20_000, "5,000 history messages stored");
  expect(stored()).toBe(5_000);
  const chats = (await w.api("GET", `/v1/accounts/${account}/chats?limit=200`)).body.data as any[];
  expect(chats).toHaveLength(50);
  // The emulator addresses history chats by LID; the mappings in the sync give their phones.
  expect(chats.every((c) => /^\d+@c\.us$/.test(c.id))).toBe(true);
  expect(chats.every((c) => c.message_count === 100)).toBe(true);
  expect(w.sink.requests).toHaveLength(0);
  expect(w.daemon.store.sqlite.query("SELECT COUNT(*) n FROM outbox").get()).toEqual({ n: 0 });
}, 30_000);

test("a backfill sends all 5,000 marked history, per chat in time order, at its rate; a live message meanwhile arrives within 1 s", async () => {
  const RATE = 400;
  const created = await w.api("POST", `/v1/accounts/${account}/backfills`, { rate_per_s: RATE });
  expect(created.status).toBe(201);
  await w.sink.waitFor(800, 10_000);

  const sent = Date.now();
  const live = await w.emu.device(PHONE).sendText({ from: "15557770099", text: "live during the backfill", pushName: "Zoe" });
  const arrived = await w.sink.waitFor((rs) => rs.some((r) => body(r).message.id === live.id), 5_000);
  const liveAt = arrived.find((r) => body(r).message.id === live.id)!.receivedAt;
  expect(liveAt - sent).toBeLessThan(1_000);
  expect(body(arrived.find((r) => body(r).message.id === live.id)!).history).toBe(false);

  const done = await finished(created.body.id, 40_000);
  expect(done.progress).toMatchObject({ total: 5_000, enqueued: 5_000, delivered: 5_000, failed: 0, skipped: 0, percent: 100 });

  const history = w.sink.requests.filter((r) => body(r).history);
  expect(history).toHaveLength(5_000);
  expect(new Set(history.map((r) => body(r).message.id)).size).toBe(5_000);
  const byChat = new Map<string, any[]>();
  for (const r of history) byChat.set(body(r).chat_id, [...(byChat.get(body(r).chat_id) ?? []), body(r)]);
  expect(byChat.size).toBe(50);
  for (const [, list] of byChat) {
    const times = list.map((b) => Number(b.timestamp));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(list.map((b) => b.seq)).toEqual(list.map((_, i) => i + 1));
  }
  // The pace, measured at the receiver over the whole run.
  const first = history[0]!.receivedMono;
  const last = history.at(-1)!.receivedMono;
  const rate = ((history.length - 1) / (last - first)) * 1000;
  expect(rate).toBeGreaterThan(RATE * 0.9);
  expect(rate).toBeLessThan(RATE * 1.1);
}, 60_000);

test("older_per_chat asks the phone for older messages, stores them and sends only those (the rest went already)", async () => {
  const chats = ((await w.api("GET", `/v1/accounts/${account}/chats?limit=2`)).body.data as any[]).map((c) => c.id);
  const before = stored();
  const oldest = new Map(chats.map((c) => [c, Number((w.daemon.store.sqlite.query("SELECT MIN(timestamp) t FROM messages WHERE chat_id = ?").get(c) as { t: number }).t)]));
  w.sink.reset();
  const created = await w.api("POST", `/v1/accounts/${account}/backfills`, { chat_ids: chats, older_per_chat: 80, rate_per_s: 500 });
  expect(created.status).toBe(201);
  expect(created.body.state).toBe("planning");
  const done = await finished(created.body.id, 30_000);
  // 80 per chat takes two requests each (WhatsApp answers about 50 at a time).
  expect(done.older).toEqual(chats.map((c) => ({ chat_id: c, wanted: 80, received: 80, requests: 2, state: "done" })));
  expect(stored()).toBe(before + 160);
  expect(done.progress).toMatchObject({ total: 360, enqueued: 160, skipped: 200, delivered: 160 });
  const got = w.sink.requests.map(body);
  expect(got).toHaveLength(160);
  for (const b of got) expect(Number(b.timestamp)).toBeLessThan(oldest.get(b.chat_id)!);
}, 40_000);

test("an include_history webhook gets the history of a newly paired account through an automatic backfill", async () => {
  const phone = "15550004002";
  w.emu.device(phone).setHistory({ enabled: true, messages: 120, chats: 4, chunks: 2 });
  const created = await w.api("POST", "/v1/accounts", { name: "second" });
  const second = created.body.id as string;
  const historyHook = await w.webhook({ include_history: true, account_ids: [second], url: w.sink.url("/history") });
  w.sink.reset();
  const qr = await w.api("GET", `/v1/accounts/${second}/qr`);
  w.emu.scanQr(qr.body.qr, { phone });
  await w.waitState(second, "open", 15_000);

  let job: any;
  await waitUntil(
    async () => {
      job = (await w.api("GET", `/v1/accounts/${second}/backfills`)).body.data[0];
      return job?.state === "running";
    },
    15_000,
    "automatic backfill running",
  );
  expect(job).toMatchObject({ auto: true, webhook_ids: [historyHook], progress: { total: 120 } });
  await w.api("PATCH", `/v1/accounts/${second}/backfills/${job.id}`, { rate_per_s: 500 });
  await waitUntil(async () => (await w.api("GET", `/v1/accounts/${second}/backfills/${job.id}`)).body.state === "finished", 15_000, "automatic backfill finished");
  const got = w.sink.requests.filter((r) => r.path === "/history");
  expect(got).toHaveLength(120);
  expect(got.every((r) => body(r).history === true && body(r).account_id === second)).toBe(true);
  // The first webhook does not ask for history and got none of it.
  expect(w.sink.requests.filter((r) => r.path !== "/history")).toHaveLength(0);
  expect(hook).toBeString();
}, 40_000);
