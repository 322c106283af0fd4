// Operator events through the daemon against the emulator: `account.status` when an account
// is paired, opens, is logged out from the phone, is taken over, or keeps failing; and
// `message.status` when WhatsApp reports what became of a message the user sent.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startWaWorld, type WaWorld } from "../support/wa.ts";
import type { SinkRequest } from "../support/sink.ts";

let w: WaWorld;
beforeAll(async () => {
  w = await startWaWorld({ seed: "status-events" });
  await w.webhook({ events: ["message.sent", "account.status", "message.status"] });
}, 30_000);
afterAll(() => w.close());

const body = (r: SinkRequest) => r.json as any;
const statusesOf = (accountId: string) => w.sink.requests.map(body).filter((b) => b.event === "account.status" && b.account_id === accountId);
async function waitStatuses(accountId: string, wanted: string[]) {
  await w.sink.waitFor(() => wanted.every((s) => statusesOf(accountId).some((b) => b.status === s)), 15_000);
  return statusesOf(accountId);
}

describe("account.status", () => {
  test("pairing: paired, then open, with the phone; seq counts the account's changes", async () => {
    const id = await w.pair("15550014001");
    const got = await waitStatuses(id, ["paired", "open"]);
    expect(got.map((b) => b.status)).toEqual(["paired", "open"]);
    expect(got[1]).toMatchObject({ account_id: id, status: "open", phone: "15550014001", reason: null, code: null, seq: 2 });
    expect(Date.parse(got[1].at)).toBeGreaterThan(Date.now() - 60_000);
  }, 30_000);

  test("the phone removes the device: logged_out with the reason and the phone it had", async () => {
    const id = await w.pair("15550014002");
    w.emu.fault("15550014002", { type: "close", code: 401 });
    const got = await waitStatuses(id, ["logged_out"]);
    expect(got.at(-1)).toMatchObject({ status: "logged_out", code: 401, phone: "15550014002", reason: expect.stringContaining("logged out") });
  }, 30_000);

  test("another client takes over: conflict", async () => {
    const id = await w.pair("15550014003");
    w.emu.fault("15550014003", { type: "close", code: 440 });
    const got = await waitStatuses(id, ["conflict"]);
    expect(got.at(-1)).toMatchObject({ status: "conflict", code: 440, reason: expect.stringContaining("took over") });
  }, 30_000);

  test("a drop is reported once as reconnecting, then open again; not at every retry", async () => {
    const id = await w.pair("15550014004");
    await waitStatuses(id, ["open"]);
    w.emu.fault("15550014004", { type: "drop" });
    await w.sink.waitFor(() => statusesOf(id).filter((b) => b.status === "open").length === 2, 15_000);
    expect(statusesOf(id).map((b) => b.status)).toEqual(["paired", "open", "reconnecting", "open"]);
  }, 30_000);
});

describe("message.status", () => {
  test("a message sent from the phone: delivered, then read, in its chat's order after the message", async () => {
    const id = await w.pair("15550014005");
    const dev = w.emu.device("15550014005");
    const sent = await dev.sendText({ fromMe: true, to: "15557140001", text: "your order shipped" });
    await w.sink.waitFor((rs) => rs.some((r) => body(r).event === "message.sent" && body(r).message.id === sent.id), 10_000);
    w.emu.receipt("15550014005", { id: sent.id, from: "15557140001" });
    await w.sink.waitFor((rs) => rs.some((r) => body(r).event === "message.status" && body(r).status === "delivered"), 10_000);
    w.emu.receipt("15550014005", { id: sent.id, from: "15557140001", type: "read" });
    await w.sink.waitFor((rs) => rs.some((r) => body(r).event === "message.status" && body(r).status === "read"), 10_000);

    const chat = w.sink.requests.map(body).filter((b) => b.chat_id === "15557140001@c.us" && b.account_id === id);
    expect(chat.map((b) => [b.event, b.status ?? null])).toEqual([
      ["message.sent", null],
      ["message.status", "delivered"],
      ["message.status", "read"],
    ]);
    expect(chat[2]).toMatchObject({ message: { id: sent.id }, recipient: null, seq: 3 });
    expect(Number(chat[2].timestamp)).toBeGreaterThan(1_700_000_000);
  }, 30_000);

  test("in a group, per member", async () => {
    const id = await w.pair("15550014006");
    const group = w.emu.groups.create({ subject: "Team", creator: "15550014006", participants: ["15557140002", "15557140003"] });
    const dev = w.emu.device("15550014006");
    const sent = await dev.sendText({ fromMe: true, group: group.id, text: "meeting at 10" });
    await w.sink.waitFor((rs) => rs.some((r) => body(r).event === "message.sent" && body(r).message.id === sent.id), 10_000);
    w.emu.receipt("15550014006", { id: sent.id, from: "15557140002", group: group.id, type: "read", via: "pn" });
    const got = await w.sink.waitFor((rs) => rs.some((r) => body(r).event === "message.status" && body(r).account_id === id), 10_000);
    const status = got.map(body).find((b) => b.event === "message.status" && b.account_id === id);
    expect(status).toMatchObject({ chat_id: group.id, status: "read", recipient: { phone: "15557140002" }, message: { id: sent.id } });
  }, 30_000);

  test("nobody is told what they did not subscribe to", async () => {
    const quiet = await w.api("POST", "/v1/webhooks", { url: w.sink.url("/quiet"), events: ["message.received"] });
    expect(quiet.status).toBe(201);
    // Both kinds happen after it exists; every webhook's row of an event is queued in one transaction.
    const id = await w.pair("15550014007");
    await waitStatuses(id, ["open"]);
    const dev = w.emu.device("15550014007");
    const sent = await dev.sendText({ fromMe: true, to: "15557140007", text: "on its way" });
    await w.sink.waitFor((rs) => rs.some((r) => body(r).event === "message.sent" && body(r).message.id === sent.id), 10_000);
    w.emu.receipt("15550014007", { id: sent.id, from: "15557140007" });
    await w.sink.waitFor((rs) => rs.some((r) => body(r).event === "message.status" && body(r).account_id === id), 10_000);
    expect(w.daemon.store.sqlite.query("SELECT event FROM outbox WHERE webhook_id = ?").all(quiet.body.id)).toEqual([]);
    expect(w.sink.requests.filter((r) => r.path === "/quiet")).toEqual([]);
  }, 30_000);
});

// Last: it takes the emulator away.
describe("a session that keeps failing", () => {
  test("reported failed after three failed reconnects in a row, with the cause", async () => {
    const id = await w.pair("15550014009");
    await w.emu.close();
    const got = await w.sink.waitFor((rs) => rs.some((r) => body(r).event === "account.status" && body(r).account_id === id && body(r).status === "failed"), 20_000);
    const mine = got.map(body).filter((b) => b.event === "account.status" && b.account_id === id);
    expect(mine.map((b) => b.status)).toEqual(["paired", "open", "reconnecting", "failed"]);
    expect(mine.at(-1)).toMatchObject({ reason: expect.stringContaining("cannot reach WhatsApp"), code: null, phone: "15550014009" });
    expect((await w.account(id)).problem).toMatchObject({ code: "whatsapp_unreachable", cause: expect.stringContaining("ECONNREFUSED") });
  }, 40_000);
});
