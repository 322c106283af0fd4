// The compiled binary against requests an attacker would write by hand, over raw sockets
// (fetch would normalise them): odd or missing Host headers, absolute-form targets, extra
// or encoded path segments. Without a key no protected route ever answers 2xx, and no
// request ever gets a 500 or Bun's development page. Then hostile bodies on every route
// that writes: a 4xx from the catalogue each, while /health keeps answering at once.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { binaryInEmptyDir, startBinary, type RunningBinary } from "../support/binary.ts";
import { httpRequest, rawRequest, type RawResponse } from "../support/raw.ts";

const KEY = "hostile-admin-key-0123456789abcdef";
const ID = "x_06H0TK2F3M4PQ9QXCGMARXVFNB";

let bin: RunningBinary;
let port: number;
let operations: { method: string; path: string; isPublic: boolean }[];
/** The OpenAPI paths as documented (with `{id}` placeholders), and their methods. */
let specPaths: Record<string, string[]>;

beforeAll(async () => {
  const { dir, exe } = await binaryInEmptyDir();
  bin = await startBinary(exe, dir, { WAHOOK_DATA_DIR: join(dir, "data"), WAHOOK_API_KEY: KEY });
  port = Number(new URL(bin.url).port);
  const spec = (await (await fetch(`${bin.url}/swagger/json`)).json()) as {
    security: unknown[];
    paths: Record<string, Record<string, { security?: unknown[] }>>;
  };
  specPaths = Object.fromEntries(Object.entries(spec.paths).map(([path, ops]) => [path, Object.keys(ops).map((m) => m.toUpperCase())]));
  operations = Object.entries(spec.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({
      method: method.toUpperCase(),
      path: path.replace(/\{[^}]+\}/g, ID),
      isPublic: (op.security ?? spec.security).length === 0,
    })),
  );
});
afterAll(async () => {
  bin.proc.kill("SIGKILL");
  await bin.proc.exited;
  rmSync(bin.dir, { recursive: true, force: true });
});

/** A request line and headers for one hostile variant of `method path`. */
type Variant = (method: string, path: string) => { line: string; headers: string[] };

const v11 = (method: string, target: string, ...headers: string[]) => ({ line: `${method} ${target} HTTP/1.1`, headers });
const variants: Record<string, Variant> = {
  "no key": (m, p) => v11(m, p, "Host: localhost"),
  "1-character Host, extra leading segment": (m, p) => v11(m, `/aa${p}`, "Host: x"),
  "2-character Host, extra leading segment": (m, p) => v11(m, `/ab${p}`, "Host: xy"),
  "3-character Host, extra leading segment": (m, p) => v11(m, `/abc${p}`, "Host: xyz"),
  "1-character Host": (m, p) => v11(m, p, "Host: x"),
  "empty Host": (m, p) => v11(m, p, "Host: "),
  "HTTP/1.0 without Host": (m, p) => ({ line: `${m} ${p} HTTP/1.0`, headers: [] }),
  "HTTP/1.1 without Host": (m, p) => v11(m, p),
  "Host with a slash": (m, p) => v11(m, p, "Host: a/b"),
  "Host with a space": (m, p) => v11(m, p, "Host: a b"),
  "duplicate Host headers": (m, p) => v11(m, p, "Host: a", "Host: bb"),
  "absolute-form target": (m, p) => v11(m, `http://other${p}`, "Host: x"),
  "absolute-form target, short host": (m, p) => v11(m, `http://o/aa${p}`, "Host: x"),
  "double slash": (m, p) => v11(m, `/${p}`, "Host: localhost"),
  "dot segment": (m, p) => v11(m, `/.${p}`, "Host: localhost"),
  "dot-dot segment": (m, p) => v11(m, `/x/..${p}`, "Host: localhost"),
  "encoded slashes": (m, p) => v11(m, p.replace(/\//g, "%2F"), "Host: localhost"),
  "encoded letters": (m, p) => v11(m, p.replace("/v1/", "/%761/"), "Host: localhost"),
  "upper-case V1": (m, p) => v11(m, p.replace("/v1/", "/V1/"), "Host: localhost"),
  "trailing dot in Host": (m, p) => v11(m, p, "Host: localhost."),
  "trailing dot in path": (m, p) => v11(m, `${p}.`, "Host: localhost"),
  "trailing slash": (m, p) => v11(m, `${p}/`, "Host: localhost"),
  "wrong key": (m, p) => v11(m, p, "Host: localhost", "Authorization: Bearer whk_wrongwrongwrongwrongwrong"),
  "empty bearer": (m, p) => v11(m, p, "Host: localhost", "Authorization: Bearer "),
  "basic auth with the key": (m, p) => v11(m, p, "Host: localhost", `Authorization: Basic ${btoa(`admin:${KEY}`)}`),
  "key in the query": (m, p) => v11(m, `${p}?api_key=${KEY}`, "Host: localhost"),
  "HEAD instead of the method": (_m, p) => v11("HEAD", p, "Host: localhost"),
  "OPTIONS instead of the method": (_m, p) => v11("OPTIONS", p, "Host: localhost"),
  "method override header": (m, p) => v11("POST", p, "Host: localhost", `X-HTTP-Method-Override: ${m}`),
  "backslashes": (m, p) => v11(m, p.replace(/\//g, "\\"), "Host: localhost"),
  "semicolon path parameter": (m, p) => v11(m, p.replace("/v1/", "/v1;a=b/"), "Host: localhost"),
  "encoded dot-dot segment": (m, p) => v11(m, `/x/%2e%2e${p}`, "Host: localhost"),
  "encoded NUL at the end": (m, p) => v11(m, `${p}%00`, "Host: localhost"),
  "userinfo in Host": (m, p) => v11(m, p, "Host: localhost:1@evil"),
  "absolute-form https target": (m, p) => v11(m, `https://other${p}`, "Host: x"),
  "rewrite headers naming a public path": (m, p) => v11(m, p, "Host: localhost", "X-Original-URL: /health", "X-Rewrite-URL: /health", "X-Forwarded-Prefix: /health"),
  "two Authorization headers": (m, p) => v11(m, p, "Host: localhost", "Authorization: Bearer x", `Authorization: Bearer ${KEY.slice(0, -1)}`),
  "the key with a suffix": (m, p) => v11(m, p, "Host: localhost", `Authorization: Bearer ${KEY}x`),
  "the key without its last character": (m, p) => v11(m, p, "Host: localhost", `Authorization: Bearer ${KEY.slice(0, -1)}`),
};

function assertNoLeak(res: RawResponse): void {
  expect(res.body).not.toMatch(/<!doctype|<html|node_modules|\.ts:\d+|\/work\//i);
}

describe("without a key, whatever the request line and headers", () => {
  test("no protected route answers 2xx, and nothing answers 500", async () => {
    const protectedOps = operations.filter((o) => !o.isPublic);
    expect(protectedOps.length).toBeGreaterThan(30);
    const wrong: string[] = [];
    let sent = 0;
    for (const op of protectedOps)
      for (const [name, variant] of Object.entries(variants)) {
        const { line, headers } = variant(op.method, op.path);
        const body = ["GET", "HEAD", "DELETE"].includes(op.method) ? "" : '{"name":"x","scope":"admin","url":"http://127.0.0.1:9/h","events":["message.received"]}';
        const res = await rawRequest(port, httpRequest(line, body ? [...headers, "Content-Type: application/json"] : headers, body));
        sent++;
        assertNoLeak(res);
        if (![400, 401, 404, 405].includes(res.status)) wrong.push(`${name}: ${line} → ${res.status} ${res.body.slice(0, 80)}`);
      }
    expect(wrong).toEqual([]);
    expect(sent).toBe(protectedOps.length * Object.keys(variants).length);
  });

  test("a second request hidden in the body (Content-Length beside chunked) never gets an answer of its own", async () => {
    const hidden = "GET /v1/api-keys HTTP/1.1\r\nHost: localhost\r\n\r\n";
    for (const framing of [
      ["Content-Length: 4", "Transfer-Encoding: chunked"],
      ["Transfer-Encoding: chunked", "Content-Length: 4"],
      ["Transfer-Encoding: chunked, identity"],
      ["Content-Length: 0", "Content-Length: 50"],
    ]) {
      const res = await rawRequest(port, `POST /health HTTP/1.1\r\nHost: localhost\r\n${framing.map((h) => `${h}\r\n`).join("")}\r\n0\r\n\r\n${hidden}`);
      // At most one answer, and never the protected listing.
      expect((res.raw.match(/HTTP\/1\.[01] \d{3}/g) ?? []).length).toBeLessThanOrEqual(1);
      expect(res.raw).not.toContain("whk_");
      expect(res.status).not.toBe(500);
    }
  });

  test("request lines Bun's parser refuses get 400/505 or a closed connection from Bun itself, never an answer from a route", async () => {
    for (const line of ["GET\t/v1/api-keys HTTP/1.1", "GET /v1/api-keys HTTP/2.0", "GET /v1/api-keys", "get /v1/api-keys HTTP/1.1", "post /v1/api-keys HTTP/1.1"]) {
      const res = await rawRequest(port, `${line}\r\nHost: localhost\r\n\r\n`);
      expect([0, 400, 505]).toContain(res.status);
      expect(res.raw).not.toContain("whk_");
    }
  });

  test("the plain request without a key is 401 on every protected route (the variants are not all 404s)", async () => {
    for (const op of operations.filter((o) => !o.isPublic)) {
      const res = await rawRequest(port, httpRequest(`${op.method} ${op.path} HTTP/1.1`, ["Host: localhost"]));
      expect(`${op.method} ${op.path} ${res.status}`).toBe(`${op.method} ${op.path} 401`);
    }
  });

  test("health checkers without a Host get the health answer, not an error page", async () => {
    for (const [line, headers] of [["GET /health HTTP/1.0", []], ["GET /health HTTP/1.1", ["Host: "]]] as const) {
      const res = await rawRequest(port, httpRequest(line, [...headers]));
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body)).toMatchObject({ status: "ok" });
    }
    // HTTP/1.1 requires a Host header: Bun answers 400 itself (RFC 9112 §3.2), never a 500.
    expect((await rawRequest(port, httpRequest("GET /health HTTP/1.1", []))).status).toBe(400);
  });

  test("with the key, the same odd Host headers still reach the right route", async () => {
    for (const host of ["Host: x", "Host: ", "Host: a/b"]) {
      const res = await rawRequest(port, httpRequest("GET /v1/webhooks HTTP/1.1", [host, `Authorization: Bearer ${KEY}`]));
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body)).toMatchObject({ data: [] });
    }
    const none = await rawRequest(port, httpRequest(`GET /v1/webhooks/${ID}/deliveries HTTP/1.0`, [`Authorization: Bearer ${KEY}`]));
    expect(JSON.parse(none.body).error.code).toBe("not_found");
  });
});

describe("hostile bodies on every route that writes", () => {
  const nested = (depth: number) => "[".repeat(depth) + "]".repeat(depth);
  const bodies: Record<string, { body: string; type?: string }> = {
    "arrays nested 10,000 deep": { body: nested(10_000) },
    "objects nested 10,000 deep": { body: '{"a":'.repeat(10_000) + "1" + "}".repeat(10_000) },
    "nesting inside a valid field": { body: `{"name":${nested(5_000)},"url":${nested(5_000)}}` },
    "a 900 KB string": { body: JSON.stringify({ name: "x".repeat(900_000), url: "y".repeat(900_000).slice(0, 900_000) }).slice(0, 1_000_000) },
    "2 MB": { body: JSON.stringify({ name: "x".repeat(2_000_000) }) },
    "NUL escaped in strings": { body: '{"name":"a\\u0000","url":"http://127.0.0.1/\\u0000","phone":"1\\u0000","events":["message.received"],"scope":"admin"}' },
    "raw NUL byte": { body: '{"name":"a\u0000"}' },
    "100,000 array elements": { body: JSON.stringify({ events: Array(100_000).fill("x"), chat_ids: Array(100_000).fill("x") }) },
    "50,000 keys": { body: `{${Array.from({ length: 50_000 }, (_, i) => `"k${i}":1`).join(",")}}` },
    "not JSON": { body: "{'name': 'x'" },
    "JSON as text/plain": { body: '{"name":"x"}', type: "text/plain" },
    "form encoded": { body: "name=x&scope=admin", type: "application/x-www-form-urlencoded" },
    "multipart": { body: '--b\r\nContent-Disposition: form-data; name="name"\r\n\r\nx\r\n--b--\r\n', type: "multipart/form-data; boundary=b" },
    "XML": { body: "<name>x</name>", type: "application/xml" },
    "a bare string": { body: '"x"' },
    "null": { body: "null" },
  };

  test("each answers a 4xx with a catalogue code; /health stays under 100 ms meanwhile", async () => {
    const writes = operations.filter((o) => !o.isPublic && o.method !== "GET");
    expect(writes.length).toBeGreaterThan(15);
    const healthMs: number[] = [];
    let running = true;
    const poller = (async () => {
      while (running) {
        const t0 = performance.now();
        await fetch(`${bin.url}/health`);
        healthMs.push(performance.now() - t0);
        await Bun.sleep(5);
      }
    })();
    const wrong: string[] = [];
    for (const op of writes)
      for (const [name, { body, type }] of Object.entries(bodies)) {
        const res = await fetch(`${bin.url}${op.path}`, {
          method: op.method,
          headers: { authorization: `Bearer ${KEY}`, "content-type": type ?? "application/json" },
          body,
        });
        const text = await res.text();
        let code: string | undefined;
        try {
          code = JSON.parse(text).error?.code;
        } catch {}
        if (res.status < 400 || res.status >= 500 || !code) wrong.push(`${name}: ${op.method} ${op.path} → ${res.status} ${text.slice(0, 100)}`);
        if (text.length > 4_000) wrong.push(`${name}: ${op.method} ${op.path} echoed ${text.length} bytes`);
      }
    running = false;
    await poller;
    expect(wrong).toEqual([]);
    expect(healthMs.length).toBeGreaterThan(20);
    expect(Math.max(...healthMs)).toBeLessThan(100);
  }, 60_000);
});

describe("hostile path ids and query strings, with the key", () => {
  test("every operation answers a JSON 4xx or its normal answer, never a 5xx, an HTML page or a stack", async () => {
    const ids = ["x", "%00", "%FF", "..%2F..%2Fwahook.db", "'%20OR%201=1--", "%F0%9F%92%A9", "a".repeat(2_000)];
    const queries = ["", "?limit=-1", "?limit=1e400", "?limit=abc", "?limit=99999999999999999999", "?cursor=%00", "?since=notadate", "?limit=1&limit=2", "?purge=maybe", "?status=__proto__"];
    const wrong: string[] = [];
    let sent = 0;
    for (const [path, methods] of Object.entries(specPaths))
      for (const method of methods) {
        if (path === "/") continue; // the admin page is HTML by design
        // Creating things (an account would start pairing) is the bodies' test; here only ids and queries vary.
        if (method !== "GET" && !path.includes("{")) continue;
        for (const id of ids)
          for (const query of method === "GET" ? queries : [""]) {
            const url = `${bin.url}${path.replace(/\{[^}]+\}/g, id)}${query}`;
            const res = await fetch(url, { method, headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" }, body: method === "GET" || method === "DELETE" ? undefined : "{}" });
            const text = await res.text();
            sent++;
            const html = (res.headers.get("content-type") ?? "").includes("html") && !path.startsWith("/swagger");
            if (res.status >= 500 || html || /node_modules|\.ts:\d+|\/work\//.test(text)) wrong.push(`${method} ${url.slice(bin.url.length, bin.url.length + 90)} → ${res.status} ${text.slice(0, 100)}`);
          }
      }
    expect(wrong).toEqual([]);
    expect(sent).toBeGreaterThan(1_000);
  });
});
