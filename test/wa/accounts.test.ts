// The accounts API against the loopback emulator, exactly as an admin uses it: list and
// get, QR and pairing code, two numbers in one daemon, logout, delete with and without
// purge, and every bad request answered with its stable error code.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { API_KEY, startWaWorld, type WaWorld } from "../support/wa.ts";
import { waitUntil } from "../support/wait.ts";

let w: WaWorld;
beforeAll(async () => {
  w = await startWaWorld({ seed: "wa-accounts" });
});
afterAll(() => w.close());

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const count = (sql: string, id: string) => (w.daemon.store.sqlite.query(sql).get(id) as { n: number }).n;
const messagesOf = (id: string) => count("SELECT COUNT(*) n FROM messages WHERE account_id = ?", id);
const credsOf = (id: string) => count("SELECT COUNT(*) n FROM wa_creds WHERE account_id = ?", id) + count("SELECT COUNT(*) n FROM wa_keys WHERE account_id = ?", id);

async function create(name: string): Promise<string> {
  const res = await w.api("POST", "/v1/accounts", { name, email: null });
  expect(res.status).toBe(201);
  return res.body.id;
}

test("list pages with a cursor; get shows state, phone, push name, last disconnect and since", async () => {
  const ids = [await create("List A"), await create("List B"), await create("List C")];
  const [first, second] = ids as [string, string, string];
  const seen: string[] = [];
  let cursor: string | null = "";
  while (cursor !== null) {
    const page = await w.api("GET", `/v1/accounts?limit=2${cursor ? `&cursor=${cursor}` : ""}`);
    expect(page.status).toBe(200);
    expect(page.body.data.length).toBeLessThanOrEqual(2);
    seen.push(...page.body.data.map((a: { id: string }) => a.id));
    cursor = page.body.next_cursor;
  }
  expect(seen).toEqual([...seen].sort());
  expect(seen).toEqual(expect.arrayContaining(ids));

  const fresh = await w.api("GET", `/v1/accounts/${first}`);
  expect(fresh.body).toEqual({
    id: first,
    name: "List A",
    email: null,
    state: "pairing",
    state_since: expect.stringMatching(ISO),
    phone: null,
    push_name: null,
    last_disconnect: null,
    problem: null,
    created_at: expect.stringMatching(ISO),
  });

  const qr = await w.api("GET", `/v1/accounts/${second}/qr`);
  expect(qr.status).toBe(200);
  expect(qr.body).toEqual({ qr: expect.stringContaining(","), expires_at: expect.stringMatching(ISO), png_data_url: expect.stringMatching(/^data:image\/png;base64,/) });
  const png = await fetch(`http://127.0.0.1:${w.daemon.port}/v1/accounts/${second}/qr.png`, { headers: { authorization: `Bearer ${API_KEY}` } });
  expect(png.status).toBe(200);
  expect(png.headers.get("content-type")).toBe("image/png");
  expect([...new Uint8Array(await png.arrayBuffer()).subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

  const pairingSince = Date.parse((await w.account(second)).state_since);
  w.emu.scanQr(qr.body.qr, { phone: "15550004001", pushName: "List Phone" });
  await w.waitState(second, "open", 15_000);
  const open = await w.account(second);
  expect(open).toMatchObject({
    state: "open",
    phone: "15550004001",
    // WhatsApp names the account later (app state); the emulator never does.
    push_name: null,
    last_disconnect: { code: 515, reason: expect.stringContaining("restart required"), at: expect.stringMatching(ISO) },
  });
  expect(Date.parse(open.state_since)).toBeGreaterThanOrEqual(pairingSince);
});

test("pairing by code: an 8-character code, entered on the phone, opens the account", async () => {
  const id = await create("By code");
  const res = await w.api("POST", `/v1/accounts/${id}/pairing-code`, { phone: "+1 555 000-4002" });
  expect(res.status).toBe(200);
  expect(res.body.code).toMatch(/^[A-Z0-9]{8}$/);
  await w.emu.pairWithCode("15550004002", res.body.code, "Code Phone");
  await w.waitState(id, "open", 15_000);
  // Not Baileys' placeholder name "~" for an account waiting for its code.
  expect(await w.account(id)).toMatchObject({ phone: "15550004002", push_name: null });
});

test("a pairing code never entered does not make the account paired: after a restart it pairs again", async () => {
  const id = await create("Code never typed");
  expect((await w.api("POST", `/v1/accounts/${id}/pairing-code`, { phone: "15550004009" })).status).toBe(200);
  expect((await w.account(id)).push_name).toBeNull();
  expect((await w.api("POST", `/v1/accounts/${id}/restart`)).status).toBe(200);
  const qr = await w.api("GET", `/v1/accounts/${id}/qr`);
  expect(qr.status).toBe(200);
  expect(await w.account(id)).toMatchObject({ state: "pairing", last_disconnect: null });
  w.emu.scanQr(qr.body.qr, { phone: "15550004009" });
  await w.waitState(id, "open", 15_000);
});

test("two numbers in one daemon: each message reaches only its own account's webhook", async () => {
  const shop = await w.pair("15550004003", { pushName: "Shop" });
  const support = await w.pair("15550004004", { pushName: "Support" });
  for (const [id, path] of [
    [shop, "/shop"],
    [support, "/support"],
  ]) {
    const hook = await w.api("POST", "/v1/webhooks", { url: w.sink.url(path), events: ["message.received"], account_ids: [id] });
    expect(hook.status).toBe(201);
  }
  const toShop = await w.emu.device("15550004003").sendText({ from: "15557000401", text: "order #1" });
  const toSupport = await w.emu.device("15550004004").sendText({ from: "15557000402", text: "help!" });
  await w.sink.waitFor((rs) => rs.filter((r) => r.path === "/shop" || r.path === "/support").length >= 2, 10_000);
  await w.settled();
  const got = (path: string) =>
    w.sink.requests.filter((r) => r.path === path).map((r) => {
      const b = r.json as { account_id: string; user_phone: string; message: { id: string } };
      return { account_id: b.account_id, user_phone: b.user_phone, id: b.message.id };
    });
  expect(got("/shop")).toEqual([{ account_id: shop, user_phone: "15550004003", id: toShop.id }]);
  expect(got("/support")).toEqual([{ account_id: support, user_phone: "15550004004", id: toSupport.id }]);
});

test("logout: logged_out, the phone no longer lists the device, a new QR can be fetched", async () => {
  const id = await w.pair("15550004005");
  expect(w.emu.device("15550004005").devices).toHaveLength(1);
  const res = await w.api("POST", `/v1/accounts/${id}/logout`);
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({ id, state: "logged_out", phone: null });
  // Baileys sends the removal and closes without waiting for WhatsApp's answer.
  await waitUntil(() => w.emu.device("15550004005").devices.length === 0, 5_000, "device removed on the phone");
  expect(credsOf(id)).toBe(0);
  const qr = await w.api("GET", `/v1/accounts/${id}/qr`);
  expect(qr.status).toBe(200);
  expect((await w.account(id)).state).toBe("pairing");
});

describe("delete", () => {
  async function pairedWithMessage(phone: string): Promise<string> {
    const id = await w.pair(phone);
    await w.emu.device(phone).sendText({ from: "15557000499", text: "keep me?" });
    await waitUntil(() => messagesOf(id) === 1, 10_000, "message stored");
    expect(credsOf(id)).toBeGreaterThan(0);
    return id;
  }

  test("without purge: the account and its credentials go, its stored messages stay; the phone loses the linked device", async () => {
    const id = await pairedWithMessage("15550004006");
    expect(w.emu.device("15550004006").devices).toHaveLength(1);
    const res = await w.api("DELETE", `/v1/accounts/${id}`);
    expect(res.status).toBe(204);
    await waitUntil(() => w.emu.device("15550004006").devices.length === 0, 5_000, "device removed on the phone");
    expect((await w.api("GET", `/v1/accounts/${id}`)).status).toBe(404);
    expect(credsOf(id)).toBe(0);
    expect(messagesOf(id)).toBe(1);
  });

  test("with ?purge=true: its stored messages go too", async () => {
    const id = await pairedWithMessage("15550004007");
    const res = await w.api("DELETE", `/v1/accounts/${id}?purge=true`);
    expect(res.status).toBe(204);
    expect((await w.api("GET", `/v1/accounts/${id}`)).status).toBe(404);
    expect(credsOf(id)).toBe(0);
    expect(messagesOf(id)).toBe(0);
  });
});

describe("bad input: a clear 4xx with a stable code, and nothing changes", () => {
  const UNKNOWN = "acc_06H0TJZ8W1M2N3P4Q5R6S7T8V9";
  let pairing: string;
  let open: string;
  let readKey: string;
  beforeAll(async () => {
    pairing = await create("Waiting");
    open = await w.pair("15550004008");
    readKey = (await w.api("POST", "/v1/api-keys", { name: "reader", scope: "read" })).body.key;
  });

  interface Case {
    name: string;
    method: string;
    path: () => string;
    body?: unknown;
    read?: boolean;
    status: number;
    code: string;
    field?: string;
  }
  const cases: Case[] = [
    { name: "pairing code for a phone too short", method: "POST", path: () => `/v1/accounts/${pairing}/pairing-code`, body: { phone: "12" }, status: 422, code: "validation_failed", field: "body.phone" },
    { name: "pairing code for a phone of punctuation", method: "POST", path: () => `/v1/accounts/${pairing}/pairing-code`, body: { phone: "+1 (555) ---" }, status: 422, code: "validation_failed", field: "body.phone" },
    { name: "pairing code for a phone as a number", method: "POST", path: () => `/v1/accounts/${pairing}/pairing-code`, body: { phone: 491701234567 }, status: 422, code: "validation_failed", field: "body.phone" },
    { name: "pairing code without a phone", method: "POST", path: () => `/v1/accounts/${pairing}/pairing-code`, body: {}, status: 422, code: "validation_failed", field: "body.phone" },
    { name: "QR of an open account", method: "GET", path: () => `/v1/accounts/${open}/qr`, status: 409, code: "account_open" },
    { name: "QR PNG of an open account", method: "GET", path: () => `/v1/accounts/${open}/qr.png`, status: 409, code: "account_open" },
    { name: "pairing code of an open account", method: "POST", path: () => `/v1/accounts/${open}/pairing-code`, body: { phone: "15550004008" }, status: 409, code: "account_open" },
    ...[
      ["GET", ""],
      ["GET", "/qr"],
      ["GET", "/qr.png"],
      ["POST", "/pairing-code", { phone: "+491701234567" }],
      ["POST", "/logout"],
      ["POST", "/restart"],
      ["DELETE", ""],
      ["DELETE", "?purge=true"],
    ].map(([method, suffix, body]) => ({ name: `unknown account: ${method} …${suffix}`, method: method as string, path: () => `/v1/accounts/${UNKNOWN}${suffix}`, body, status: 404, code: "not_found" })),
    { name: "create without a name", method: "POST", path: () => "/v1/accounts", body: { email: "a@example.com" }, status: 422, code: "validation_failed", field: "body.name" },
    { name: "create with an empty name", method: "POST", path: () => "/v1/accounts", body: { name: "" }, status: 422, code: "validation_failed", field: "body.name" },
    { name: "create with a name of the wrong type", method: "POST", path: () => "/v1/accounts", body: { name: 42 }, status: 422, code: "validation_failed", field: "body.name" },
    { name: "create with an e-mail that is not one", method: "POST", path: () => "/v1/accounts", body: { name: "x", email: "not-an-email" }, status: 422, code: "validation_failed", field: "body.email" },
    { name: "create with an e-mail of the wrong type", method: "POST", path: () => "/v1/accounts", body: { name: "x", email: 7 }, status: 422, code: "validation_failed", field: "body.email" },
    { name: "create with an extra field", method: "POST", path: () => "/v1/accounts", body: { name: "x", phone: "491701234567" }, status: 422, code: "validation_failed" },
    { name: "a read key creating an account", method: "POST", path: () => "/v1/accounts", body: { name: "x" }, read: true, status: 403, code: "forbidden" },
    { name: "a read key logging out", method: "POST", path: () => `/v1/accounts/${open}/logout`, read: true, status: 403, code: "forbidden" },
    { name: "a read key deleting", method: "DELETE", path: () => `/v1/accounts/${open}`, read: true, status: 403, code: "forbidden" },
  ];

  const snapshot = () => JSON.stringify(w.daemon.store.sqlite.query("SELECT id, name, state, phone FROM accounts ORDER BY id").all());

  test.each(cases.map((c) => [c.name, c] as const))("%s", async (_name, c) => {
    const before = snapshot();
    const res = await fetch(`http://127.0.0.1:${w.daemon.port}${c.path()}`, {
      method: c.method,
      headers: { authorization: `Bearer ${c.read ? readKey : API_KEY}`, ...(c.body === undefined ? {} : { "content-type": "application/json" }) },
      body: c.body === undefined ? undefined : JSON.stringify(c.body),
    });
    const body = (await res.json()) as { error: { code: string; message: string; details: { field: string }[] | null } };
    expect({ status: res.status, code: body.error.code }).toEqual({ status: c.status, code: c.code });
    expect(body.error.message.length).toBeGreaterThan(10);
    if (c.field) expect(body.error.details?.map((d) => d.field)).toContain(c.field);
    expect(snapshot()).toBe(before);
  });
});
