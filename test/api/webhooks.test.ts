import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { startTestApp, type TestApp } from "../support/app.ts";

let t: TestApp;
beforeEach(() => {
  t = startTestApp();
});
afterEach(() => t.close());

const valid = { url: "http://127.0.0.1:9999/hook", events: ["message.received"] };

describe("create", () => {
  test("returns 201 with defaults and the secret, once", async () => {
    const res = await t.call("POST", "/v1/webhooks", { body: valid });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      url: valid.url,
      events: ["message.received"],
      account_ids: null,
      ordering: "per_chat",
      format: "cooby",
      include_history: false,
      max_concurrency: 4,
      rate_limit_per_s: null,
      retry_schedule_s: null,
      description: "",
      enabled: true,
      disabled_reason: null,
      secret_rotating_until: null,
    });
    expect(res.body.id).toMatch(/^wh_[0-9A-Z]{26}$/);
    expect(res.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const got = await t.call("GET", `/v1/webhooks/${res.body.id}`);
    expect(got.status).toBe(200);
    expect(got.body.secret).toBeUndefined();
    const list = await t.call("GET", "/v1/webhooks");
    expect(JSON.stringify(list.body)).not.toContain(res.body.secret);
  });

  test("takes every field, both triggers on one webhook", async () => {
    const body = {
      url: "https://127.0.0.1/x",
      events: ["message.received", "message.sent"],
      account_ids: ["acc_1"],
      ordering: "none",
      format: "raw",
      include_history: true,
      max_concurrency: 8,
      rate_limit_per_s: 10,
      retry_schedule_s: [1, 60],
      description: "CRM",
      enabled: false,
    };
    const res = await t.call("POST", "/v1/webhooks", { body });
    expect(res.status).toBe(201);
    const { url, ...rest } = body;
    expect(res.body).toMatchObject({ ...rest, url });
    expect(res.body.disabled_reason).toBe("disabled by an admin");
  });

  test("credentials in the URL are kept but masked in every answer", async () => {
    const res = await t.call("POST", "/v1/webhooks", { body: { ...valid, url: "http://user:s3cret@127.0.0.1:9/h?q=1" } });
    expect(res.status).toBe(201);
    expect(res.body.url).toBe("http://user:***@127.0.0.1:9/h?q=1");
    const list = await t.call("GET", "/v1/webhooks");
    expect(JSON.stringify(list.body)).not.toContain("s3cret");
    const row = t.deps.store.sqlite.query("SELECT url FROM webhooks").get() as { url: string };
    expect(row.url).toBe("http://user:s3cret@127.0.0.1:9/h?q=1");
  });
});

describe("list", () => {
  test("cursor pagination walks every webhook once, in creation order", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await t.call("POST", "/v1/webhooks", { body: { ...valid, description: `n${i}` } })).body.id);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: { status: number; body: any } = await t.call("GET", `/v1/webhooks?limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      expect(res.status).toBe(200);
      seen.push(...res.body.data.map((w: { id: string }) => w.id));
      cursor = res.body.next_cursor;
      pages++;
    } while (cursor);
    expect(seen).toEqual(ids);
    expect(pages).toBe(3);
  });

  test("an exact last page has no next cursor", async () => {
    for (let i = 0; i < 2; i++) await t.call("POST", "/v1/webhooks", { body: valid });
    const res = await t.call("GET", "/v1/webhooks?limit=2");
    expect(res.body.data).toHaveLength(2);
    expect(res.body.next_cursor).toBeNull();
  });

  test("a forged cursor is a 400", async () => {
    const res = await t.call("GET", "/v1/webhooks?cursor=bm9wZQ");
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("invalid_cursor");
  });
});

describe("change", () => {
  test("patch changes only the given fields and re-checks the URL", async () => {
    const { body: created } = await t.call("POST", "/v1/webhooks", { body: valid });
    const res = await t.call("PATCH", `/v1/webhooks/${created.id}`, { body: { max_concurrency: 9, events: ["message.sent"] } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ max_concurrency: 9, events: ["message.sent"], url: valid.url });
    const bad = await t.call("PATCH", `/v1/webhooks/${created.id}`, { body: { url: "http://169.254.169.254/" } });
    expect(bad.status).toBe(422);
    expect(bad.body.error.code).toBe("target_forbidden");
    expect((await t.call("GET", `/v1/webhooks/${created.id}`)).body.url).toBe(valid.url);
  });

  test("patch leaves fields it does not name alone", async () => {
    const { body: created } = await t.call("POST", "/v1/webhooks", { body: { ...valid, ordering: "none", format: "raw", include_history: true, rate_limit_per_s: 3 } });
    const res = await t.call("PATCH", `/v1/webhooks/${created.id}`, { body: { description: "renamed" } });
    expect(res.body).toMatchObject({ description: "renamed", ordering: "none", format: "raw", include_history: true, rate_limit_per_s: 3 });
  });

  test("disable records the reason, enable clears it", async () => {
    const { body: created } = await t.call("POST", "/v1/webhooks", { body: valid });
    const off = await t.call("POST", `/v1/webhooks/${created.id}/disable`);
    expect(off.status).toBe(200);
    expect(off.body).toMatchObject({ enabled: false, disabled_reason: "disabled by an admin" });
    expect(off.body.disabled_at).toBeString();
    const on = await t.call("POST", `/v1/webhooks/${created.id}/enable`);
    expect(on.body).toMatchObject({ enabled: true, disabled_reason: null, disabled_at: null });
  });

  test("rotate-secret returns a new secret and keeps the old one signing for 24 h", async () => {
    const { body: created } = await t.call("POST", "/v1/webhooks", { body: valid });
    const before = Date.now();
    const res = await t.call("POST", `/v1/webhooks/${created.id}/rotate-secret`);
    expect(res.status).toBe(200);
    expect(res.body.secret).toMatch(/^whsec_/);
    expect(res.body.secret).not.toBe(created.secret);
    const until = Date.parse(res.body.secret_rotating_until);
    expect(until - before).toBeGreaterThanOrEqual(24 * 3600 * 1000 - 1000);
    expect(until - before).toBeLessThanOrEqual(24 * 3600 * 1000 + 1000);
    const row = t.deps.store.sqlite.query("SELECT secret, previous_secret FROM webhooks").get() as Record<string, string>;
    expect(row).toEqual({ secret: res.body.secret, previous_secret: created.secret });
  });

  test("delete answers 204, then 404", async () => {
    const { body: created } = await t.call("POST", "/v1/webhooks", { body: valid });
    expect((await t.call("DELETE", `/v1/webhooks/${created.id}`)).status).toBe(204);
    const again = await t.call("GET", `/v1/webhooks/${created.id}`);
    expect(again.status).toBe(404);
    expect(again.body.error.code).toBe("not_found");
  });
});

describe("unknown ids", () => {
  const routes: [string, string][] = [
    ["GET", "/v1/webhooks/wh_nope"],
    ["PATCH", "/v1/webhooks/wh_nope"],
    ["DELETE", "/v1/webhooks/wh_nope"],
    ["POST", "/v1/webhooks/wh_nope/enable"],
    ["POST", "/v1/webhooks/wh_nope/disable"],
    ["POST", "/v1/webhooks/wh_nope/rotate-secret"],
  ];
  test.each(routes)("%s %s → 404 not_found", async (method, path) => {
    const res = await t.call(method, path, method === "PATCH" ? { body: { description: "x" } } : {});
    expect(res.status).toBe(404);
    expect(res.body.error).toMatchObject({ code: "not_found", message: "No webhook wh_nope." });
  });
});
