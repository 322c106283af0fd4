// What one attempt keeps of the receiver's answer: at most 64 KiB, however it comes
// (with a length, chunked, or compressed so that a small length unpacks to megabytes).
import { afterAll, expect, test } from "bun:test";
import { gzipSync } from "node:zlib";
import { RESPONSE_EXCERPT_BYTES, sendAttempt } from "../../src/delivery/send.ts";

const big = "y".repeat(2 * 1024 * 1024);
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  fetch(req) {
    const path = new URL(req.url).pathname;
    if (path === "/short") return new Response("accepted, thanks");
    if (path === "/long") return new Response(big);
    if (path === "/chunked") {
      const stream = new ReadableStream({
        pull(c) {
          c.enqueue(new TextEncoder().encode("z".repeat(16 * 1024)));
        },
      });
      return new Response(stream);
    }
    // 2 MB that travel as a few KB.
    if (path === "/gzip") return new Response(gzipSync(big), { headers: { "content-encoding": "gzip" } });
    if (path === "/empty") return new Response(null, { status: 204 });
    return new Response("?", { status: 404 });
  },
});
afterAll(() => server.stop(true));

const allow = { loopback: true, private: false, cidrs: [] };
const send = (path: string) => sendAttempt({ url: `http://127.0.0.1:${server.port}${path}`, body: "{}", headers: { "content-type": "application/json" }, allow });

test.each([
  ["/short", "accepted, thanks"],
  ["/long", "y".repeat(RESPONSE_EXCERPT_BYTES)],
  ["/chunked", "z".repeat(RESPONSE_EXCERPT_BYTES)],
  ["/gzip", "y".repeat(RESPONSE_EXCERPT_BYTES)],
  ["/empty", ""],
])("the answer of %s is kept up to 64 KiB", async (path, excerpt) => {
  const sent = await send(path);
  expect(sent.statusCode).toBe(path === "/empty" ? 204 : 200);
  expect(sent.excerpt).toBe(excerpt);
});
