// Where Bun hands requests over: a request without a usable Host still has an absolute URL,
// and anything that escapes the app is the catalogue's 500 (stack in the log), never Bun's
// development page. Raw sockets, because fetch always sends a Host.
import { afterEach, expect, test } from "bun:test";
import type { Server } from "bun";
import { edgeHandlers } from "../../src/api/edge.ts";
import { createLogger } from "../../src/log.ts";
import { httpRequest, rawRequest } from "../support/raw.ts";

let server: Server<undefined> | null = null;
afterEach(() => server?.stop(true));

function serve(handle: (r: Request) => Response | Promise<Response>) {
  const lines: string[] = [];
  server = Bun.serve({ hostname: "127.0.0.1", port: 0, ...edgeHandlers(handle, createLogger("debug", (l) => lines.push(l))) });
  return { port: server.port!, lines };
}

test.each([
  ["HTTP/1.0 without Host", "GET /v1/a/b/c?x=1 HTTP/1.0", []],
  ["empty Host", "GET /v1/a/b/c?x=1 HTTP/1.1", ["Host: "]],
  ["Host with a slash", "GET /v1/a/b/c?x=1 HTTP/1.1", ["Host: a/b"]],
  ["Host with a space", "GET /v1/a/b/c?x=1 HTTP/1.1", ["Host: a b"]],
] as const)("%s: the app sees an absolute URL with the path and query as sent", async (_name, line, headers) => {
  const { port } = serve((r) => Response.json({ url: r.url, path: new URL(r.url).pathname }));
  const res = await rawRequest(port, httpRequest(line, [...headers]));
  expect(res.status).toBe(200);
  expect(JSON.parse(res.body)).toEqual({ url: "http://localhost/v1/a/b/c?x=1", path: "/v1/a/b/c" });
});

test("a request with a Host is passed on untouched", async () => {
  const { port } = serve((r) => Response.json({ url: r.url }));
  const res = await rawRequest(port, httpRequest("GET /x HTTP/1.1", ["Host: example.com:8080"]));
  expect(JSON.parse(res.body)).toEqual({ url: "http://example.com:8080/x" });
});

test.each([
  ["throws", () => {
    throw new Error("boom in the handler");
  }],
  ["rejects", async () => {
    throw new TypeError("async boom");
  }],
] as const)("a handler that %s gives the catalogue's 500 and a log line with the stack", async (_name, handle) => {
  const { port, lines } = serve(handle as () => Response);
  const res = await rawRequest(port, httpRequest("GET /v1/webhooks HTTP/1.1", ["Host: localhost"]));
  expect(res.status).toBe(500);
  expect(res.headers).toMatch(/content-type: application\/json/i);
  expect(JSON.parse(res.body)).toEqual({ error: { code: "internal", message: expect.stringContaining("server log"), details: null } });
  expect(res.body).not.toMatch(/<html|boom|\.ts:\d+/i);
  const logged = JSON.parse(lines.find((l) => l.includes("request failed"))!);
  expect(logged.level).toBe("error");
  expect(logged.error.stack).toContain("boom");
});

test("an exception inside a route is the same catalogue 500 through the app", async () => {
  const { startTestApp } = await import("../support/app.ts");
  const t = startTestApp();
  try {
    // The fixture's WhatsApp stage throws a plain Error from create().
    const res = await t.call("POST", "/v1/accounts", { body: { name: "Sales" } });
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ error: { code: "internal", message: expect.stringContaining("server log"), details: null } });
  } finally {
    await t.close();
  }
});
