// What one attempt keeps of the receiver's answer: at most 64 KiB, however it comes (with
// a length or chunked), and never a compressed answer unpacked; and where an https attempt
// connects: to the address that was checked, with the name kept for SNI and the certificate.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { lookup as dnsLookup } from "node:dns/promises";
import { createServer, type Server } from "node:https";
import type { TLSSocket } from "node:tls";
import { gzipSync, zstdCompressSync } from "node:zlib";
import { RESPONSE_EXCERPT_BYTES, sendAttempt } from "../../src/delivery/send.ts";
import type { Lookup } from "../../src/delivery/target.ts";
import { makeCa } from "./certs.ts";

const MB = 1024 * 1024;
const big = "y".repeat(2 * MB);
const gzipped = gzipSync(big);
// Concatenated gzip members (zstd frames) unpack to their contents one after the other:
// under 64 KiB each, 60 MB of zeros and 640 MB of zeros.
const bombs = {
  gzip: Buffer.concat(Array<Buffer>(60).fill(gzipSync(Buffer.alloc(MB), { level: 9 }))),
  zstd: Buffer.concat(Array<Buffer>(40).fill(zstdCompressSync(Buffer.alloc(16 * MB)))),
};
let acceptEncoding: string | null = null;
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  fetch(req) {
    acceptEncoding = req.headers.get("accept-encoding");
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
    if (path === "/gzip") return new Response(gzipped, { headers: { "content-encoding": "gzip" } });
    if (path === "/bomb/gzip") return new Response(bombs.gzip, { headers: { "content-encoding": "gzip" } });
    if (path === "/bomb/zstd") return new Response(bombs.zstd, { headers: { "content-encoding": "zstd" } });
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
  ["/gzip", `[gzip-encoded answer of ${gzipped.byteLength} bytes, not shown]`],
  ["/empty", ""],
])("the answer of %s is kept up to 64 KiB", async (path, excerpt) => {
  const sent = await send(path);
  expect(sent.statusCode).toBe(path === "/empty" ? 204 : 200);
  expect(sent.excerpt).toBe(excerpt);
});

test("a refused connection is a connect failure named once (not 'ECONNREFUSED: ECONNREFUSED: …')", async () => {
  const out = await sendAttempt({ url: "http://127.0.0.1:1/hook", body: "{}", headers: {}, allow });
  expect(out.result).toEqual({ kind: "error", errorClass: "connect" });
  expect(out.error).toMatch(/^ECONNREFUSED: /);
  expect(out.error!.match(/ECONNREFUSED/g)).toHaveLength(1);
});

test("the request asks for an uncompressed answer", async () => {
  await send("/short");
  expect(acceptEncoding).toBe("identity");
});

// Bun's fetch unpacks on its one HTTP client thread, which every webhook's request shares,
// and goes on after the body is cancelled: unpacked, the zstd bomb costs about 0.8 s of CPU
// (the gzip one 25-115 ms), and the next request waits for it.
test.each(["gzip", "zstd"] as const)("a %s bomb is not unpacked", async (encoding) => {
  const cpu = process.cpuUsage();
  const sent = await send(`/bomb/${encoding}`);
  // Queued behind whatever the HTTP client thread still does for the bomb.
  await send("/short");
  const used = process.cpuUsage(cpu);
  expect(sent.statusCode).toBe(200);
  // The size as sent: what an unpacked body would not have.
  expect(sent.excerpt).toBe(`[${encoding}-encoded answer of ${bombs[encoding].byteLength} bytes, not shown]`);
  expect((used.user + used.system) / 1000).toBeLessThan(250);
});

describe("https", () => {
  const seen: { host: string | undefined; sni: string | false | null }[] = [];
  const servers: Server[] = [];
  const ports: Record<string, number> = {};
  let ca = "";
  beforeAll(async () => {
    const made = makeCa(["receiver.test", "other.test"]);
    ca = made.ca;
    for (const [name, leaf] of Object.entries(made.leaves)) {
      const tls = createServer(leaf, (req, res) => {
        seen.push({ host: req.headers.host, sni: (req.socket as TLSSocket).servername });
        res.end("hello");
      });
      await new Promise<void>((resolve) => tls.listen(0, "127.0.0.1", resolve));
      servers.push(tls);
      ports[name] = (tls.address() as { port: number }).port;
    }
  });
  afterAll(() => servers.forEach((s) => s.close()));

  /** An attempt to https://receiver.test, which only the stub resolves (to 127.0.0.1), answered by the server holding `certFor`'s certificate. */
  async function sendHttps(certFor: string, trustCa = true) {
    const lookups: string[] = [];
    const lookup: Lookup = async (hostname) => {
      lookups.push(hostname);
      return [{ address: "127.0.0.1", family: 4 }];
    };
    seen.length = 0;
    const url = `https://receiver.test:${ports[certFor]}/x`;
    const sent = await sendAttempt({ url, body: "{}", headers: {}, allow, lookup, ...(trustCa ? { tls: { ca } } : {}) });
    return { sent, lookups };
  }

  test("the premise: receiver.test does not resolve in DNS, so fetch cannot find it by itself", async () => {
    await expect(dnsLookup("receiver.test")).rejects.toThrow();
  });

  test("goes to the checked address, with the name in Host, SNI and the certificate check", async () => {
    const { sent, lookups } = await sendHttps("receiver.test");
    expect(sent.error).toBeNull();
    expect(sent.statusCode).toBe(200);
    expect(sent.excerpt).toBe("hello");
    expect(lookups).toEqual(["receiver.test"]);
    expect(seen).toEqual([{ host: `receiver.test:${ports["receiver.test"]}`, sni: "receiver.test" }]);
  });

  test("a certificate for another name is refused", async () => {
    const { sent, lookups } = await sendHttps("other.test");
    expect(sent.result).toEqual({ kind: "error", errorClass: "tls" });
    expect(lookups).toEqual(["receiver.test"]);
    expect(seen).toEqual([]);
  });

  test("a certificate from an authority that is not trusted is refused", async () => {
    const { sent } = await sendHttps("receiver.test", false);
    expect(sent.result).toEqual({ kind: "error", errorClass: "tls" });
    expect(seen).toEqual([]);
  });
});
