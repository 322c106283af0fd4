// Every bad request gets the right 4xx and error code, and changes no row.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestApp, type TestApp } from "../support/app.ts";

let t: TestApp;
let existing: string;
beforeAll(async () => {
  t = startTestApp();
  existing = (await t.call("POST", "/v1/webhooks", { body: { url: "http://127.0.0.1:1/h", events: ["message.sent"] } })).body.id;
});
afterAll(() => t.close());

const ok = { url: "https://127.0.0.1/hook", events: ["message.received"] };

interface Case {
  name: string;
  method: string;
  path: string | (() => string);
  body?: unknown;
  rawBody?: string;
  key?: "none" | "wrong" | "read";
  headers?: Record<string, string>;
  status: number;
  code: string;
  field?: string;
  message?: RegExp;
}

const cases: Case[] = [
  { name: "missing url", method: "POST", path: "/v1/webhooks", body: { events: ["message.received"] }, status: 422, code: "validation_failed", field: "body.url" },
  { name: "missing events", method: "POST", path: "/v1/webhooks", body: { url: ok.url }, status: 422, code: "validation_failed", field: "body.events" },
  { name: "empty events", method: "POST", path: "/v1/webhooks", body: { ...ok, events: [] }, status: 422, code: "validation_failed", field: "body.events" },
  { name: "unknown event", method: "POST", path: "/v1/webhooks", body: { ...ok, events: ["message.deleted"] }, status: 422, code: "validation_failed", field: "body.events.0" },
  { name: "extra field", method: "POST", path: "/v1/webhooks", body: { ...ok, colour: "red" }, status: 422, code: "validation_failed" },
  { name: "url of wrong type", method: "POST", path: "/v1/webhooks", body: { ...ok, url: 42 }, status: 422, code: "validation_failed", field: "body.url" },
  { name: "concurrency of wrong type", method: "POST", path: "/v1/webhooks", body: { ...ok, max_concurrency: "4" }, status: 422, code: "validation_failed", field: "body.max_concurrency" },
  { name: "concurrency 0", method: "POST", path: "/v1/webhooks", body: { ...ok, max_concurrency: 0 }, status: 422, code: "validation_failed", field: "body.max_concurrency" },
  { name: "negative rate", method: "POST", path: "/v1/webhooks", body: { ...ok, rate_limit_per_s: -1 }, status: 422, code: "validation_failed", field: "body.rate_limit_per_s" },
  { name: "unknown ordering", method: "POST", path: "/v1/webhooks", body: { ...ok, ordering: "fifo" }, status: 422, code: "validation_failed", field: "body.ordering" },
  { name: "url too long", method: "POST", path: "/v1/webhooks", body: { ...ok, url: `https://127.0.0.1/${"a".repeat(2100)}` }, status: 422, code: "validation_failed", field: "body.url" },
  { name: "ftp url", method: "POST", path: "/v1/webhooks", body: { ...ok, url: "ftp://x" }, status: 422, code: "target_scheme" },
  { name: "javascript url", method: "POST", path: "/v1/webhooks", body: { ...ok, url: "javascript:alert(1)" }, status: 422, code: "target_scheme" },
  { name: "not a url", method: "POST", path: "/v1/webhooks", body: { ...ok, url: "not a url" }, status: 422, code: "target_invalid" },
  { name: "cloud metadata", method: "POST", path: "/v1/webhooks", body: { ...ok, url: "http://169.254.169.254/latest" }, status: 422, code: "target_forbidden" },
  { name: "metadata as decimal", method: "POST", path: "/v1/webhooks", body: { ...ok, url: "http://2852039166/" }, status: 422, code: "target_forbidden" },
  { name: "metadata as IPv4-mapped IPv6", method: "POST", path: "/v1/webhooks", body: { ...ok, url: "http://[::ffff:169.254.169.254]/" }, status: 422, code: "target_forbidden" },
  { name: "private range not allowed", method: "POST", path: "/v1/webhooks", body: { ...ok, url: "http://10.0.0.5/hook" }, status: 422, code: "target_private", message: /WAHOOK_ALLOW_TARGETS/ },
  { name: "malformed JSON", method: "POST", path: "/v1/webhooks", rawBody: '{"url": ', headers: { "content-type": "application/json" }, status: 400, code: "malformed_json" },
  { name: "2 MB body", method: "POST", path: "/v1/webhooks", rawBody: JSON.stringify({ ...ok, description: "x".repeat(2_000_000) }), headers: { "content-type": "application/json" }, status: 413, code: "payload_too_large" },
  { name: "form body", method: "POST", path: "/v1/webhooks", rawBody: "url=x", headers: { "content-type": "application/x-www-form-urlencoded" }, status: 415, code: "unsupported_media_type" },
  { name: "no body", method: "POST", path: "/v1/webhooks", status: 422, code: "validation_failed" },
  { name: "no key", method: "POST", path: "/v1/webhooks", body: ok, key: "none", status: 401, code: "unauthorized" },
  { name: "wrong key", method: "POST", path: "/v1/webhooks", body: ok, key: "wrong", status: 401, code: "unauthorized" },
  { name: "wrong key, malformed body", method: "POST", path: "/v1/webhooks", rawBody: "{", key: "wrong", status: 401, code: "unauthorized" },
  { name: "read key writing", method: "POST", path: "/v1/webhooks", body: ok, key: "read", status: 403, code: "forbidden" },
  { name: "read key deleting", method: "DELETE", path: () => `/v1/webhooks/${existing}`, key: "read", status: 403, code: "forbidden" },
  { name: "read key patching", method: "PATCH", path: () => `/v1/webhooks/${existing}`, body: { description: "x" }, key: "read", status: 403, code: "forbidden" },
  { name: "read key rotating", method: "POST", path: () => `/v1/webhooks/${existing}/rotate-secret`, key: "read", status: 403, code: "forbidden" },
  { name: "read key creating keys", method: "POST", path: "/v1/api-keys", body: { name: "x", scope: "admin" }, key: "read", status: 403, code: "forbidden" },
  { name: "empty patch", method: "PATCH", path: () => `/v1/webhooks/${existing}`, body: {}, status: 422, code: "validation_failed" },
  { name: "patch extra field", method: "PATCH", path: () => `/v1/webhooks/${existing}`, body: { secret: "whsec_x" }, status: 422, code: "validation_failed" },
  { name: "bad api key scope", method: "POST", path: "/v1/api-keys", body: { name: "x", scope: "root" }, status: 422, code: "validation_failed", field: "body.scope" },
  { name: "limit too big", method: "GET", path: "/v1/webhooks?limit=1000", status: 422, code: "validation_failed", field: "query.limit" },
  { name: "limit not a number", method: "GET", path: "/v1/webhooks?limit=ten", status: 422, code: "validation_failed", field: "query.limit" },
  { name: "unknown route", method: "GET", path: "/v1/nothing-here", status: 404, code: "route_not_found" },
  { name: "unknown route without key", method: "GET", path: "/nothing-here", key: "none", status: 404, code: "route_not_found" },
  { name: "wrong method", method: "PUT", path: "/v1/webhooks", body: ok, status: 405, code: "method_not_allowed" },
  { name: "arrays nested 10,000 deep", method: "POST", path: "/v1/webhooks", rawBody: "[".repeat(10_000) + "]".repeat(10_000), status: 400, code: "json_too_deep" },
  { name: "objects nested 10,000 deep in a field", method: "POST", path: "/v1/api-keys", rawBody: `{"scope":"admin","name":${'{"a":'.repeat(10_000)}1${"}".repeat(10_000)}}`, status: 400, code: "json_too_deep" },
  { name: "deep nesting without a key", method: "POST", path: "/v1/webhooks", rawBody: "[".repeat(10_000), key: "none", status: 401, code: "unauthorized" },
  { name: "brackets inside strings are not nesting", method: "POST", path: "/v1/webhooks", body: { ...ok, description: "[".repeat(5_000) }, status: 422, code: "validation_failed", field: "body.description" },
  { name: "NUL in a name", method: "POST", path: "/v1/api-keys", rawBody: '{"name":"a\\u0000b","scope":"admin"}', status: 422, code: "validation_failed", field: "body.name" },
  { name: "NUL in a key name", method: "POST", path: "/v1/webhooks", rawBody: '{"url":"https://127.0.0.1/h","events":["message.sent"],"a\\u0000":1}', status: 422, code: "validation_failed", field: "body.a?" },
  { name: "escape in a URL", method: "PATCH", path: () => `/v1/webhooks/${existing}`, rawBody: '{"url":"https://127.0.0.1/h\\u001b[31m"}', status: 422, code: "validation_failed", field: "body.url" },
  { name: "100,000 wrong events", method: "POST", path: "/v1/webhooks", body: { ...ok, events: Array(100_000).fill("bogus") }, status: 400, code: "json_too_wide" },
  { name: "1,001 list entries", method: "POST", path: "/v1/webhooks", body: { ...ok, account_ids: Array.from({ length: 1001 }, (_, i) => `acc_${i}`) }, status: 400, code: "json_too_wide" },
  { name: "1,001 keys", method: "POST", path: "/v1/api-keys", body: Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`k${i}`, 1])), status: 400, code: "json_too_wide" },
  { name: "1,000 list entries reach the schema", method: "POST", path: "/v1/webhooks", body: { ...ok, events: Array(1000).fill("bogus") }, status: 422, code: "validation_failed", field: "body.events.0" },
  { name: "commas inside strings are not entries", method: "POST", path: "/v1/webhooks", body: { ...ok, description: ",".repeat(5_000) }, status: 422, code: "validation_failed", field: "body.description" },
  { name: "a 900 KB value in an enum field", method: "POST", path: "/v1/api-keys", body: { name: "x", scope: "x".repeat(900_000) }, status: 422, code: "validation_failed", field: "body.scope" },
  { name: "text/plain body", method: "POST", path: "/v1/api-keys", rawBody: '{"name":"x","scope":"admin"}', headers: { "content-type": "text/plain" }, status: 415, code: "unsupported_media_type" },
  { name: "multipart body", method: "POST", path: "/v1/api-keys", rawBody: "--b\r\n\r\n--b--", headers: { "content-type": "multipart/form-data; boundary=b" }, status: 415, code: "unsupported_media_type" },
  { name: "wrong method on an item", method: "POST", path: () => `/v1/webhooks/${existing}`, body: ok, status: 405, code: "method_not_allowed" },
];

function snapshot(): string {
  const db = t.deps.store.sqlite;
  return JSON.stringify([db.query("SELECT * FROM webhooks ORDER BY id").all(), db.query("SELECT id, revoked_at FROM api_keys ORDER BY id").all()]);
}

describe("bad input", () => {
  test.each(cases.map((c) => [c.name, c] as const))("%s", async (_name, c) => {
    const before = snapshot();
    const key = c.key === "none" ? null : c.key === "wrong" ? "whk_wrongwrongwrongwrongwrongwrong" : c.key === "read" ? t.readKey : undefined;
    const path = typeof c.path === "function" ? c.path() : c.path;
    const res = await t.call(c.method, path, { body: c.body, rawBody: c.rawBody, key, headers: c.headers });
    expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status: c.status, code: c.code });
    expect(Object.keys(res.body.error).sort()).toEqual(["code", "details", "message"]);
    expect(res.body.error.message.length).toBeGreaterThan(10);
    expect(JSON.stringify(res.body)).not.toMatch(/at .*\.ts:\d+|node_modules/);
    // What a caller sent is never echoed back at length.
    expect(JSON.stringify(res.body).length).toBeLessThan(4_000);
    if (c.field) expect(res.body.error.details.map((d: { field: string }) => d.field)).toContain(c.field);
    if (c.message) expect(res.body.error.message).toMatch(c.message);
    expect(snapshot()).toBe(before);
  });

  test("405 names the methods that are allowed", async () => {
    const res = await t.call("PUT", "/v1/webhooks", { body: ok });
    expect(res.headers.get("allow")).toBe("POST, GET");
  });
});
