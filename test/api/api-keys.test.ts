// API keys through the real router: the key is shown once, works in both headers, read
// keys cannot write, revocation is immediate, and the last admin key cannot be revoked.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { startTestApp, type TestApp } from "../support/app.ts";

let t: TestApp;
beforeEach(() => {
  t = startTestApp();
});
afterEach(() => t.close());

const sha256 = (key: string) => new Bun.CryptoHasher("sha256").update(key).digest("hex");

async function createKey(scope: "admin" | "read", name = `${scope} key`) {
  const res = await t.call("POST", "/v1/api-keys", { body: { name, scope } });
  expect(res.status).toBe(201);
  return res.body as { id: string; key: string; prefix: string };
}

describe("create", () => {
  test.each(["admin", "read"] as const)("%s key: 201 with the key, shown only in this answer", async (scope) => {
    const res = await t.call("POST", "/v1/api-keys", { body: { name: "n8n", scope } });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^key_[0-9A-Z]{26}$/),
      name: "n8n",
      scope,
      prefix: res.body.key.slice(0, 12),
      source: "api",
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      last_used_at: null,
      revoked_at: null,
      key: expect.stringMatching(/^whk_[A-Za-z0-9_-]{32}$/),
    });
    const { id, key } = res.body;
    const one = await t.call("GET", `/v1/api-keys/${id}`);
    const list = await t.call("GET", "/v1/api-keys");
    for (const answer of [one.body, list.body]) {
      expect(JSON.stringify(answer)).not.toContain(key);
      expect(JSON.stringify(answer)).not.toContain(sha256(key));
    }
    expect(one.body.key).toBeUndefined();
    expect(list.body.data.every((k: object) => !("key" in k) && !("hash" in k))).toBe(true);
  });

  test("the stored row holds only the hash of the key", async () => {
    const { id, key } = await createKey("read");
    const row = t.deps.store.sqlite.query("SELECT * FROM api_keys WHERE id = ?").get(id) as Record<string, unknown>;
    expect(row.hash).toBe(sha256(key));
    expect(JSON.stringify(row)).not.toContain(key);
  });

  test.each([
    ["no name", { scope: "read" }, "body.name"],
    ["empty name", { name: "", scope: "read" }, "body.name"],
    ["unknown scope", { name: "x", scope: "owner" }, "body.scope"],
    ["extra field", { name: "x", scope: "read", key: "my-own-key-0123456789abc" }, "body"],
  ])("%s → 422 naming the field", async (_name, body, field) => {
    const res = await t.call("POST", "/v1/api-keys", { body });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe("validation_failed");
    expect(res.body.error.details.map((d: { field: string }) => d.field).join(" ")).toContain(field);
  });
});

describe("authentication with a new key", () => {
  test.each([
    ["Authorization: Bearer", (key: string) => ({ authorization: `Bearer ${key}` })],
    ["Authorization: bearer (any case)", (key: string) => ({ authorization: `bearer ${key}` })],
    ["X-Api-Key", (key: string) => ({ "x-api-key": key })],
  ])("%s", async (_name, headers) => {
    const { key } = await createKey("admin");
    const res = await t.call("GET", "/v1/webhooks", { key: null, headers: headers(key) });
    expect(res.status).toBe(200);
  });

  test.each([
    ["no key", {}, "Send a valid API key"],
    ["a wrong key", { authorization: "Bearer whk_not-a-key-we-ever-handed-out" }, "unknown or revoked"],
    ["a wrong X-Api-Key", { "x-api-key": "whk_not-a-key-we-ever-handed-out" }, "unknown or revoked"],
    ["Basic instead of Bearer", { authorization: "Basic dXNlcjpwYXNz" }, "Send a valid API key"],
  ])("%s → 401", async (_name, headers, message) => {
    const res = await t.call("GET", "/v1/api-keys", { key: null, headers });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe("unauthorized");
    expect(res.body.error.message).toContain(message);
  });

  test("last_used_at is filled once the key is used", async () => {
    const { id, key } = await createKey("read");
    const before = Date.now();
    expect((await t.call("GET", "/v1/webhooks", { key })).status).toBe(200);
    const res = await t.call("GET", `/v1/api-keys/${id}`);
    expect(Date.parse(res.body.last_used_at)).toBeGreaterThanOrEqual(before - 1);
    expect(Date.parse(res.body.last_used_at)).toBeLessThanOrEqual(Date.now());
  });
});

describe("read scope", () => {
  test.each([
    ["GET", "/v1/api-keys", undefined, 200],
    ["GET", "/v1/webhooks", undefined, 200],
    ["POST", "/v1/api-keys", { name: "escalate", scope: "admin" }, 403],
    ["POST", "/v1/webhooks", { url: "http://127.0.0.1:9/h", events: ["message.received"] }, 403],
    ["DELETE", "/v1/api-keys/key_06H0TK2F3M4PQ9QXCGMARXVFNB", undefined, 403],
  ] as const)("%s %s → %d", async (method, path, body, status) => {
    const res = await t.call(method, path, { key: t.readKey, body });
    expect(res.status).toBe(status);
    if (status === 403) expect(res.body.error.code).toBe("forbidden");
  });

  test("a refused write changes nothing", async () => {
    await t.call("POST", "/v1/api-keys", { key: t.readKey, body: { name: "escalate", scope: "admin" } });
    const list = await t.call("GET", "/v1/api-keys");
    expect(list.body.data.map((k: { name: string }) => k.name)).toEqual(["test admin", "test reader"]);
  });
});

describe("list and get", () => {
  test("cursor pagination walks every key once, in creation order", async () => {
    const created: string[] = [];
    for (let i = 0; i < 5; i++) created.push((await createKey("read", `k${i}`)).id);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: { status: number; body: any } = await t.call("GET", `/v1/api-keys?limit=3${cursor ? `&cursor=${cursor}` : ""}`);
      expect(res.status).toBe(200);
      expect(res.body.data.length).toBeLessThanOrEqual(3);
      seen.push(...res.body.data.map((k: { id: string }) => k.id));
      cursor = res.body.next_cursor;
      pages++;
    } while (cursor);
    // 2 fixture keys + 5 new ones = 7 → pages of 3, 3, 1.
    expect(pages).toBe(3);
    expect(seen.slice(2)).toEqual(created);
    expect(new Set(seen).size).toBe(7);
  });

  test.each([
    ["limit=0", 422, "validation_failed"],
    ["limit=201", 422, "validation_failed"],
    ["cursor=garbage", 400, "invalid_cursor"],
  ])("%s → %d %s", async (query, status, code) => {
    const res = await t.call("GET", `/v1/api-keys?${query}`);
    expect(res.status).toBe(status);
    expect(res.body.error.code).toBe(code);
  });

  test("get one", async () => {
    const { id, prefix } = await createKey("read", "grafana");
    const res = await t.call("GET", `/v1/api-keys/${id}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id, name: "grafana", scope: "read", prefix, source: "api", revoked_at: null });
  });

  test("get an unknown id → 404", async () => {
    const res = await t.call("GET", "/v1/api-keys/key_06H0TK2F3M4PQ9QXCGMARXVFNB");
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe("not_found");
  });
});

describe("revoke", () => {
  test("answers 200 with revoked_at; the key stops working at once; revoking again is harmless", async () => {
    const { id, key } = await createKey("read");
    expect((await t.call("GET", "/v1/webhooks", { key })).status).toBe(200);

    const res = await t.call("DELETE", `/v1/api-keys/${id}`);
    expect(res.status).toBe(200);
    const revokedAt: string = res.body.revoked_at;
    expect(res.body.id).toBe(id);
    expect(Date.parse(revokedAt)).toBeGreaterThan(Date.now() - 5_000);
    expect(res.body.key).toBeUndefined();

    const after = await t.call("GET", "/v1/webhooks", { key });
    expect(after.status).toBe(401);
    expect(after.body.error.message).toContain("unknown or revoked");
    expect((await t.call("GET", "/v1/webhooks", { key: null, headers: { "x-api-key": key } })).status).toBe(401);

    const again = await t.call("DELETE", `/v1/api-keys/${id}`);
    expect(again.status).toBe(200);
    expect(again.body.revoked_at).toBe(revokedAt);
    // Still listed, as revoked: an audit trail, not a deletion.
    expect((await t.call("GET", `/v1/api-keys/${id}`)).body.revoked_at).toBe(revokedAt);
  });

  test("an unknown id → 404", async () => {
    const res = await t.call("DELETE", "/v1/api-keys/key_06H0TK2F3M4PQ9QXCGMARXVFNB");
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe("not_found");
  });

  test("the last active admin key cannot be revoked (409), so nobody is locked out", async () => {
    const fixtureAdmin = (await t.call("GET", "/v1/api-keys")).body.data.find((k: { name: string }) => k.name === "test admin").id;
    const refused = await t.call("DELETE", `/v1/api-keys/${fixtureAdmin}`);
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe("conflict");
    expect(refused.body.error.message).toContain("last admin key");
    expect((await t.call("GET", "/v1/webhooks")).status).toBe(200);

    // With a second admin key the first can go; then the second is the last one.
    const second = await createKey("admin");
    expect((await t.call("DELETE", `/v1/api-keys/${fixtureAdmin}`, { key: second.key })).status).toBe(200);
    expect((await t.call("GET", "/v1/webhooks")).status).toBe(401);
    const last = await t.call("DELETE", `/v1/api-keys/${second.id}`, { key: second.key });
    expect(last.status).toBe(409);
    expect((await t.call("GET", "/v1/webhooks", { key: second.key })).status).toBe(200);
  });

  // Read keys do not count: revoking every read key must not be blocked.
  test("read keys can all be revoked", async () => {
    const readId = (await t.call("GET", "/v1/api-keys")).body.data.find((k: { scope: string }) => k.scope === "read").id;
    expect((await t.call("DELETE", `/v1/api-keys/${readId}`)).status).toBe(200);
    expect((await t.call("GET", "/v1/webhooks", { key: t.readKey })).status).toBe(401);
  });

  test("an admin may revoke its own key while another admin key exists", async () => {
    const other = await createKey("admin");
    const self = await createKey("admin");
    expect((await t.call("DELETE", `/v1/api-keys/${self.id}`, { key: self.key })).status).toBe(200);
    expect((await t.call("GET", "/v1/webhooks", { key: self.key })).status).toBe(401);
    expect((await t.call("GET", "/v1/webhooks", { key: other.key })).status).toBe(200);
  });
});
