// Chats and stored messages as an admin browses them before a backfill.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ingestHistory } from "../../src/ingest/history.ts";
import { insertAccount } from "../../src/store/accounts.ts";
import { saveContacts, saveGroups } from "../../src/store/directory.ts";
import { startTestApp, type TestApp } from "../support/app.ts";
import { textMessage } from "../support/delivery.ts";

let t: TestApp;
let account: string;
const BASE = 1_700_000_000;

beforeAll(() => {
  t = startTestApp();
  const { store } = t.deps;
  account = insertAccount(store, { name: "Sales", email: null }).id;
  saveContacts(store, account, [
    { phone: "491700000001", savedName: "Alice Example", pushName: "Alice" },
    { phone: "491700000002", pushName: "Bob" },
  ]);
  saveGroups(store, account, [{ jid: "120363000000000001@g.us", subject: "Team", participants: [] }]);
  const list = [
    ...Array.from({ length: 7 }, (_, i) => textMessage({ accountId: account, id: `A${i}`, chatId: "491700000001@c.us", timestamp: BASE + i, text: `a${i}`, history: true })),
    ...Array.from({ length: 2 }, (_, i) => textMessage({ accountId: account, id: `B${i}`, chatId: "491700000002@c.us", timestamp: BASE + 100 + i, history: true })),
    textMessage({ accountId: account, id: "G0", chatId: "120363000000000001@g.us", chatType: "group", timestamp: BASE + 50, history: true }),
  ];
  // Two messages with the same second keep their stored order.
  list.push(textMessage({ accountId: account, id: "A7", chatId: "491700000001@c.us", timestamp: BASE + 6, text: "a7", history: true }));
  ingestHistory({ store: t.deps.store, mediaMaxBytes: 1e6, settleMs: 0, autoRatePerS: 20 }, account, list);
  // The same message again (history overlap) is stored once.
  ingestHistory({ store: t.deps.store, mediaMaxBytes: 1e6, settleMs: 0, autoRatePerS: 20 }, account, list.slice(0, 3));
});
afterAll(() => t.close());

describe("chats", () => {
  test("each chat with its title, type, count and times, in id order, paged", async () => {
    const first = await t.call("GET", `/v1/accounts/${account}/chats?limit=2`);
    expect(first.status).toBe(200);
    expect(first.body.data).toEqual([
      { id: "120363000000000001@g.us", type: "group", title: "Team", wa_name: null, message_count: 1, first_message_at: new Date((BASE + 50) * 1000).toISOString(), last_message_at: new Date((BASE + 50) * 1000).toISOString() },
      { id: "491700000001@c.us", type: "individual", title: "Alice Example", wa_name: "Alice", message_count: 8, first_message_at: new Date(BASE * 1000).toISOString(), last_message_at: new Date((BASE + 6) * 1000).toISOString() },
    ]);
    const second = await t.call("GET", `/v1/accounts/${account}/chats?limit=2&cursor=${first.body.next_cursor}`);
    // No saved name: titled by the phone, like the payload's chat_title.
    expect(second.body.data).toEqual([expect.objectContaining({ id: "491700000002@c.us", title: "491700000002", wa_name: "Bob", message_count: 2 })]);
    expect(second.body.next_cursor).toBeNull();
  });

  test("unknown account → 404; forged cursor → 400", async () => {
    expect((await t.call("GET", "/v1/accounts/acc_06H0TJZ8W1M2N3P4Q5R6S7T8V9/chats")).status).toBe(404);
    const forged = await t.call("GET", `/v1/accounts/${account}/chats?cursor=bm9wZQ`);
    expect({ status: forged.status, code: forged.body.error.code }).toEqual({ status: 400, code: "invalid_cursor" });
  });
});

describe("messages of a chat", () => {
  const path = () => `/v1/accounts/${account}/chats/491700000001@c.us/messages`;

  test("oldest first by default, every page continuing the last, each message once", async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { status: number; body: any } = await t.call("GET", `${path()}?limit=3${cursor ? `&cursor=${cursor}` : ""}`);
      expect(res.status).toBe(200);
      seen.push(...res.body.data.map((m: { id: string }) => m.id));
      cursor = res.body.next_cursor;
    } while (cursor);
    expect(seen).toEqual(["A0", "A1", "A2", "A3", "A4", "A5", "A6", "A7"]);
  });

  test("newest first on request; since and until bound by send time", async () => {
    const desc = await t.call("GET", `${path()}?order=desc&limit=2`);
    expect(desc.body.data.map((m: { id: string }) => m.id)).toEqual(["A7", "A6"]);
    const window = await t.call("GET", `${path()}?since=${new Date((BASE + 2) * 1000).toISOString()}&until=${new Date((BASE + 4) * 1000).toISOString()}`);
    expect(window.body.data.map((m: { id: string }) => m.id)).toEqual(["A2", "A3", "A4"]);
  });

  test("the message view: Cooby timestamp, time, history flag, sender and text", async () => {
    const res = await t.call("GET", `${path()}?limit=1`);
    expect(res.body.data[0]).toMatchObject({
      id: "A0",
      chat_id: "491700000001@c.us",
      type: "chat",
      direction: "received",
      timestamp: String(BASE),
      sent_at: new Date(BASE * 1000).toISOString(),
      history: true,
      sender: { phone: "491701234567", wa_name: "Alice" },
      text: "a0",
    });
    expect(res.body.data[0].raw).toBeUndefined();
  });

  test("bad input: unknown chat 404, since after until 422, bad order 422, forged cursor 400", async () => {
    const unknown = await t.call("GET", `/v1/accounts/${account}/chats/15550000000@c.us/messages`);
    expect({ status: unknown.status, code: unknown.body.error.code }).toEqual({ status: 404, code: "not_found" });
    const swapped = await t.call("GET", `${path()}?since=2026-11-02T00:00:00Z&until=2026-11-01T00:00:00Z`);
    expect({ status: swapped.status, code: swapped.body.error.code }).toEqual({ status: 422, code: "validation_failed" });
    const order = await t.call("GET", `${path()}?order=sideways`);
    expect({ status: order.status, code: order.body.error.code, field: order.body.error.details[0].field }).toEqual({ status: 422, code: "validation_failed", field: "query.order" });
    const forged = await t.call("GET", `${path()}?cursor=${Buffer.from("msg:x").toString("base64url")}`);
    expect(forged.status).toBe(400);
  });
});
