// Deny by default: every route Elysia registered answers 401 without a key, except the
// documented public ones; a route added without being listed is protected too; and the
// decision follows the route the router matched, whatever the URL's host looks like.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { PUBLIC_ROUTES } from "../../src/api/auth.ts";
import { readResponse, startTestApp, type TestApp } from "../support/app.ts";

const ID = "x_06H0TK2F3M4PQ9QXCGMARXVFNB";
const concrete = (route: string) => route.replace(/:[^/]+/g, ID).replace(/\*$/, "anything");

let t: TestApp;
let open: TestApp;
beforeAll(() => {
  t = startTestApp();
  open = startTestApp({ WAHOOK_METRICS_PUBLIC: "true" });
});
afterAll(async () => {
  await t.close();
  await open.close();
});

async function withoutKey(app: TestApp, method: string, path: string, base = "http://localhost") {
  const init: RequestInit = { method };
  if (!["GET", "HEAD"].includes(method)) Object.assign(init, { body: "{}", headers: { "content-type": "application/json" } });
  return readResponse(await app.app.handle(new Request(`${base}${path}`, init)));
}

describe("every registered route", () => {
  test("answers 401 without a key unless it is a documented public route", async () => {
    const routes = t.app.routes.filter((r) => r.method !== "WS");
    expect(routes.length).toBeGreaterThan(30);
    const wrong: string[] = [];
    for (const r of routes) {
      const res = await withoutKey(t, r.method, concrete(r.path));
      const isPublic = (PUBLIC_ROUTES as readonly string[]).includes(r.path);
      if (!isPublic && res.status !== 401) wrong.push(`${r.method} ${r.path}: ${res.status} without a key`);
      if (isPublic && res.status === 401) wrong.push(`${r.method} ${r.path}: public, but 401`);
    }
    expect(wrong).toEqual([]);
  });

  test("the public list is exactly the admin page, the site icon, health, Swagger UI and its assets, and signed media links", () => {
    expect([...PUBLIC_ROUTES].sort()).toEqual(["/", "/favicon.ico", "/health", "/swagger", "/swagger/assets/:name", "/swagger/json", "/v1/media/:token"]);
  });

  test("/metrics needs a key unless WAHOOK_METRICS_PUBLIC=true", async () => {
    expect((await withoutKey(t, "GET", "/metrics")).status).toBe(401);
    expect((await withoutKey(open, "GET", "/metrics")).status).toBe(200);
    // Making /metrics public opens nothing else.
    expect((await withoutKey(open, "GET", "/v1/webhooks")).status).toBe(401);
  });

  test("a route added later without an access rule is protected", async () => {
    const fresh = startTestApp();
    try {
      fresh.app.get("/internal/new-thing", () => ({ secret: true }));
      fresh.app.post("/v1/new-thing", () => ({ secret: true }));
      expect((await withoutKey(fresh, "GET", "/internal/new-thing")).status).toBe(401);
      expect((await withoutKey(fresh, "POST", "/v1/new-thing")).status).toBe(401);
      expect((await fresh.call("GET", "/internal/new-thing")).status).toBe(200);
    } finally {
      await fresh.close();
    }
  });
});

describe("the host part of the URL never changes the decision", () => {
  // Elysia's default router skipped 11 characters to find the path, so `http://x/aa/v1/…`
  // was routed to /v1/… while a second parser saw /aa/v1/… and skipped auth.
  const hosts = ["http://x", "http://xy", "http://xyz", "http://", "http://a.b.c.d.example.com:8080", "http://[::1]"];
  const targets = [
    ["POST", "/aa/v1/api-keys"],
    ["GET", "/aa/v1/webhooks"],
    ["PATCH", `/ab/v1/webhooks/${ID}`],
    ["GET", "/v1/webhooks"],
    ["POST", "/v1/api-keys"],
  ] as const;
  for (const host of hosts)
    for (const [method, path] of targets)
      test(`${method} ${host}${path}`, async () => {
        let res: Awaited<ReturnType<typeof withoutKey>>;
        try {
          res = await withoutKey(t, method, path, host);
        } catch {
          return; // a URL the Request constructor refuses never reaches the app
        }
        expect([401, 404]).toContain(res.status);
      });
});

describe("the WAHOOK_API_KEY key", () => {
  test("cannot be revoked through the API: 409 env_key, and it keeps working", async () => {
    const env = startTestApp({ WAHOOK_API_KEY: "env-admin-key-0123456789abcdef" });
    try {
      const { bootstrapKeys } = await import("../../src/store/apiKeys.ts");
      bootstrapKeys(env.deps.store, env.config.apiKey);
      const list = await env.call("GET", "/v1/api-keys");
      const envKey = list.body.data.find((k: { source: string }) => k.source === "env");
      const res = await env.call("DELETE", `/v1/api-keys/${envKey.id}`);
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe("env_key");
      expect(res.body.error.message).toContain("WAHOOK_API_KEY");
      expect((await env.call("GET", "/v1/webhooks", { key: "env-admin-key-0123456789abcdef" })).status).toBe(200);
    } finally {
      await env.close();
    }
  });
});
