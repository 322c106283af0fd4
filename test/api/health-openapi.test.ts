// What an admin sees before having a key: /health, Swagger UI served from the binary
// (no CDN), and an OpenAPI document complete enough to use without reading the source.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestApp, type TestApp } from "../support/app.ts";

let t: TestApp;
beforeAll(() => {
  t = startTestApp();
});
afterAll(() => t.close());

describe("GET /health", () => {
  test.each([
    ["no key", {}],
    ["a wrong key", { authorization: "Bearer whk_not-a-key-we-ever-handed-out" }],
  ])("answers without an API key (%s)", async (_name, headers) => {
    const res = await t.call("GET", "/health", { key: null, headers });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/json");
    expect(Object.keys(res.body).sort()).toEqual(["database", "status", "uptime_s", "version"]);
    expect(res.body).toMatchObject({ status: "ok", version: "test", database: "ok" });
    expect(res.body.uptime_s).toBeNumber();
    expect(res.body.uptime_s).toBeGreaterThanOrEqual(0);
    expect(res.body.uptime_s).toBeLessThan(60);
  });
});

describe("GET /swagger", () => {
  let html: string;
  beforeAll(async () => {
    const res = await t.call("GET", "/swagger", { key: null });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    html = res.body;
  });
  const referenced = () => [...html.matchAll(/\b(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);

  // VPS admins may be firewalled from the internet: nothing may come from elsewhere.
  test("references only local assets", () => {
    expect(referenced().length).toBeGreaterThanOrEqual(2);
    expect(referenced().filter((u) => /^(https?:)?\/\//.test(u))).toEqual([]);
    expect(/cdn|unpkg|jsdelivr|cloudflare/i.test(html)).toBe(false);
  });

  test("every referenced asset answers 200 with its content type, without a key", async () => {
    const expectedType: Record<string, RegExp> = { js: /^text\/javascript|^application\/javascript/, css: /^text\/css/, png: /^image\/png/ };
    for (const ref of referenced()) {
      const path = new URL(ref, "http://localhost/swagger").pathname;
      const res = await t.app.handle(new Request(`http://localhost${path}`));
      const ext = path.split(".").at(-1)!;
      expect({ path, status: res.status }).toEqual({ path, status: 200 });
      expect(res.headers.get("content-type")).toMatch(expectedType[ext] ?? /./);
      expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(1000);
    }
  });

  // Typed with or without the trailing slash, the page must find its document.
  test.each(["/swagger", "/swagger/"])("the spec URL the page at %s loads resolves to the OpenAPI document", async (page) => {
    const served = await t.call("GET", page, { key: null });
    expect(served.status).toBe(200);
    const url = /"url":"([^"]+)"/.exec(served.body)?.[1];
    expect(url).toBeString();
    const path = new URL(url!, `http://localhost${page}`).pathname;
    const res = await t.call("GET", path, { key: null });
    expect(res.status).toBe(200);
    expect(res.body.openapi).toMatch(/^3\./);
  });

  test("an unknown asset is 404", async () => {
    expect((await t.call("GET", "/swagger/assets/evil.js", { key: null })).status).toBe(404);
  });
});

describe("GET /swagger/json", () => {
  type Operation = {
    summary?: string;
    tags?: string[];
    security?: Record<string, string[]>[];
    parameters?: unknown[];
    requestBody?: { content?: Record<string, { schema?: object }> };
    responses?: Record<string, { content?: Record<string, { schema?: object }> }>;
  };
  const METHODS = ["get", "put", "post", "delete", "patch", "head", "options"];
  let spec: any;
  let operations: { name: string; path: string; method: string; op: Operation }[];
  beforeAll(async () => {
    const res = await t.call("GET", "/swagger/json", { key: null });
    expect(res.status).toBe(200);
    spec = res.body;
    operations = Object.entries(spec.paths as Record<string, Record<string, Operation>>).flatMap(([path, item]) =>
      Object.entries(item)
        .filter(([method]) => METHODS.includes(method))
        .map(([method, op]) => ({ name: `${method.toUpperCase()} ${path}`, path, method, op })),
    );
  });

  const hasExample = (value: unknown): boolean => JSON.stringify(value ?? null).match(/"examples?":/) !== null;
  const successOf = (op: Operation) => Object.keys(op.responses ?? {}).find((s) => /^2\d\d$/.test(s));

  test("is OpenAPI 3 with the bearer scheme required by default", () => {
    expect(spec.openapi).toMatch(/^3\./);
    expect(spec.info.version).toBe("test");
    expect(spec.components.securitySchemes.bearer).toMatchObject({ type: "http", scheme: "bearer" });
    expect(spec.security).toEqual([{ bearer: [] }]);
  });

  test("documents every route the app serves", () => {
    const documented = new Set(operations.map((o) => o.name));
    // Pages for browsers (Swagger UI, the admin page) are not API operations: they say so with `hide`.
    const served = t.app.routes
      .filter((r) => !r.path.startsWith("/swagger") && !(r.hooks as { detail?: { hide?: boolean } }).detail?.hide)
      .map((r) => `${r.method.toUpperCase()} ${r.path.replace(/:([^/]+)/g, "{$1}")}`);
    expect(served.length).toBeGreaterThan(25);
    expect(served.filter((s) => !documented.has(s))).toEqual([]);
  });

  // One list of everything missing, so a failure names every incomplete operation at once.
  test("every operation has a summary, a declared tag, a success schema and an example", () => {
    const declaredTags = new Set((spec.tags as { name: string }[]).map((x) => x.name));
    const problems: string[] = [];
    for (const { name, op } of operations) {
      if (!op.summary?.trim()) problems.push(`${name}: no summary`);
      if (!op.tags?.length) problems.push(`${name}: no tag`);
      for (const tag of op.tags ?? []) if (!declaredTags.has(tag)) problems.push(`${name}: tag ${tag} is not declared`);
      const success = successOf(op);
      if (!success) problems.push(`${name}: no 2xx response`);
      else if (success !== "204") {
        const schemas = Object.values(op.responses![success]!.content ?? {}).map((c) => c.schema);
        if (!schemas.some((s) => s && Object.keys(s).length)) problems.push(`${name}: no schema for ${success}`);
      }
      // Error answers all share one example; an operation needs its own, in what it takes or gives.
      const own = [op.parameters, op.requestBody, success ? op.responses![success] : null];
      if (!own.some(hasExample)) problems.push(`${name}: no example in its parameters, body or ${success} answer`);
    }
    expect(problems).toEqual([]);
  });

  // Without the schema Swagger UI shows an empty "Request body" with nothing to fill in.
  test("every request body is documented as JSON with its schema", () => {
    const withBody = operations.filter((o) => o.op.requestBody);
    expect(withBody.map((o) => o.name)).toContain("POST /v1/webhooks/");
    const problems = withBody
      .filter(({ op }) => !op.requestBody!.content?.["application/json"]?.schema || !hasExample(op.requestBody))
      .map((o) => o.name);
    expect(problems).toEqual([]);
  });

  test("every /v1 operation needs the bearer key, except media downloads; /health needs none", () => {
    const problems: string[] = [];
    for (const { name, path, op } of operations) {
      const open = path === "/health" || path.startsWith("/v1/media/");
      if (open && JSON.stringify(op.security) !== "[]") problems.push(`${name}: should declare security []`);
      if (path.startsWith("/v1/") && !open && op.security !== undefined && !op.security.some((s) => "bearer" in s)) {
        problems.push(`${name}: does not require the bearer key`);
      }
    }
    expect(problems).toEqual([]);
  });

  // The document must say what the server does: every operation it marks as needing a key
  // refuses a request without one, and the open ones do not.
  test("declared security matches what the server does without a key", async () => {
    const wrong: string[] = [];
    for (const { name, path, method, op } of operations) {
      const url = path.replace(/\{[^}]+\}/g, "x_06H0TK2F3M4PQ9QXCGMARXVFNB");
      const res = await t.call(method.toUpperCase(), url, { key: null });
      const needsKey = (op.security ?? spec.security).length > 0;
      if (needsKey !== (res.status === 401)) wrong.push(`${name}: declared ${needsKey ? "key needed" : "open"}, answered ${res.status}`);
    }
    expect(wrong).toEqual([]);
  });
});
