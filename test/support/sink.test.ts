import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import { type Reply, startSink } from "./sink.ts";

const sink = await startSink();
afterAll(() => sink.close());
beforeEach(() => sink.reset());

const post = (path: string, body: string, init: RequestInit = {}) => fetch(sink.url(path), { method: "POST", body, ...init });

describe("sink records", () => {
  test("listens on 127.0.0.1 only", () => {
    expect(sink.url()).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(sink.url("hook")).toBe(sink.url("/hook"));
  });

  test("method, path with query, lowercased headers, body, JSON and arrival times", async () => {
    const before = Date.now();
    const monoBefore = performance.now();
    const res = await post("/hook?x=1", '{"a":1}', { headers: { "Webhook-Id": "evt_1", "Content-Type": "application/json" } });
    expect([res.status, await res.text()]).toEqual([200, "ok"]);
    const [r] = sink.requests;
    expect(r).toMatchObject({ method: "POST", path: "/hook?x=1", body: '{"a":1}', json: { a: 1 } });
    expect(r?.headers).toMatchObject({ "webhook-id": "evt_1", "content-type": "application/json", "content-length": "7" });
    expect(r?.receivedAt).toBeGreaterThanOrEqual(before);
    expect(r?.receivedMono).toBeGreaterThanOrEqual(monoBefore);
  });

  test("a body that is not JSON has json undefined", async () => {
    await post("/", "not json");
    expect(sink.requests[0]).toMatchObject({ body: "not json", json: undefined });
  });

  test("a chunked request body is reassembled", async () => {
    const parts = ['{"chunk', '":true}'];
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const part of parts) controller.enqueue(new TextEncoder().encode(part));
        controller.close();
      },
    });
    await fetch(sink.url("/c"), { method: "POST", body });
    expect(sink.requests[0]?.headers["transfer-encoding"]).toBe("chunked");
    expect(sink.requests[0]?.json).toEqual({ chunk: true });
  });

  test("several requests on one kept-alive connection", async () => {
    for (const n of [1, 2, 3]) await post(`/${n}`, String(n));
    expect(sink.requests.map((r) => [r.path, r.body])).toEqual([["/1", "1"], ["/2", "2"], ["/3", "3"]]);
  });

  test("reset forgets requests and replies; the requests array stays the same object", async () => {
    const held = sink.requests;
    sink.respondWith({ status: 500 });
    await post("/", "x");
    sink.reset();
    expect(held).toHaveLength(0);
    expect((await post("/", "y")).status).toBe(200);
    expect(held).toHaveLength(1);
  });
});

describe("sink replies", () => {
  const retryDate = new Date(Date.UTC(2030, 0, 1)).toUTCString();
  const cases: [string, Reply, { status: number; headers?: Record<string, string>; body: string }][] = [
    ["default", {}, { status: 200, body: "" }],
    ["status 204", { status: 204 }, { status: 204, body: "" }],
    ["410 Gone", { status: 410, body: "gone" }, { status: 410, body: "gone" }],
    ["429 with Retry-After seconds", { status: 429, headers: { "Retry-After": "5" } }, { status: 429, headers: { "retry-after": "5" }, body: "" }],
    ["503 with Retry-After date", { status: 503, headers: { "retry-after": retryDate } }, { status: 503, headers: { "retry-after": retryDate }, body: "" }],
    ["custom header and body", { status: 201, headers: { "x-a": "b" }, body: '{"ok":true}' }, { status: 201, headers: { "x-a": "b" }, body: '{"ok":true}' }],
    ["redirect", { redirect: "http://example.com/moved" }, { status: 302, headers: { location: "http://example.com/moved" }, body: "" }],
    ["redirect 308", { status: 308, redirect: "/other" }, { status: 308, headers: { location: "/other" }, body: "" }],
  ];
  test.each(cases)("%s", async (_name, reply, expected) => {
    sink.respondWith(reply);
    const res = await post("/", "{}", { redirect: "manual" });
    expect(res.status).toBe(expected.status);
    for (const [name, value] of Object.entries(expected.headers ?? {})) expect(res.headers.get(name)).toBe(value);
    expect(await res.text()).toBe(expected.body);
  });

  test("a plan answers requests in turn, then the default", async () => {
    sink.respondWith([{ status: 500 }, { status: 503, headers: { "retry-after": "1" } }, { status: 201 }]);
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await post("/", String(i))).status);
    expect(statuses).toEqual([500, 503, 201, 200]);
  });

  test("a function sees each request and its index", async () => {
    sink.respondWith((request, index) => ({ status: 200, body: `${index}:${request.path}` }));
    expect(await (await post("/a", "")).text()).toBe("0:/a");
    expect(await (await post("/b", "")).text()).toBe("1:/b");
  });

  test("delay holds the answer back", async () => {
    sink.respondWith({ delayMs: 300 });
    const start = performance.now();
    expect((await post("/", "")).status).toBe(200);
    expect(performance.now() - start).toBeGreaterThanOrEqual(290);
  });

  test("hang never answers: the client's own timeout ends it; the request is recorded", async () => {
    sink.respondWith({ hang: true });
    const error = await post("/", "x", { signal: AbortSignal.timeout(200) }).catch((e: Error) => e);
    expect((error as Error).name).toBe("TimeoutError");
    expect(sink.requests).toHaveLength(1);
  });

  test("drop closes the connection with no answer at all", async () => {
    sink.respondWith([{ drop: true }]);
    const error = await post("/", "x").catch((e: Error & { code?: string }) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as { code?: string }).code).toBe("ECONNRESET");
    expect(sink.requests).toHaveLength(1);
    expect((await post("/", "next")).status).toBe(200);
  });

  test("slow body: headers at once, the body trickles", async () => {
    sink.respondWith({ body: "abcdef", slowBody: { chunkBytes: 2, intervalMs: 100 } });
    const start = performance.now();
    const res = await post("/", "");
    const headersAt = performance.now() - start;
    expect(await res.text()).toBe("abcdef");
    const bodyAt = performance.now() - start;
    // Two 100 ms pauses between three pieces, all after the headers.
    expect(bodyAt - headersAt).toBeGreaterThanOrEqual(150);
  });

  test("huge body: 10 MB, readable in full", async () => {
    sink.respondWith({ bodyBytes: 10 * 1024 * 1024 });
    const res = await post("/", "");
    expect(res.headers.get("content-length")).toBe("10485760");
    expect((await res.arrayBuffer()).byteLength).toBe(10 * 1024 * 1024);
  });

  test("huge body: a client may stop reading early and the sink keeps serving", async () => {
    sink.respondWith([{ bodyBytes: 10 * 1024 * 1024 }]);
    const reader = (await post("/", "")).body?.getReader();
    const first = await reader?.read();
    expect(first?.value?.length).toBeGreaterThan(0);
    await reader?.cancel();
    expect((await post("/", "")).status).toBe(200);
  });
});

describe("sink waitFor", () => {
  test("a count", async () => {
    void post("/1", "");
    void post("/2", "");
    const got = await sink.waitFor(2, 2000);
    expect(got.map((r) => r.path).sort()).toEqual(["/1", "/2"]);
  });

  test("a predicate", async () => {
    void post("/x", '{"seq":1}');
    void post("/y", '{"seq":2}');
    const got = await sink.waitFor((rs) => rs.some((r) => (r.json as { seq?: number }).seq === 2), 2000);
    expect(got.some((r) => r.path === "/y")).toBe(true);
  });

  test("already satisfied resolves at once", async () => {
    expect(await sink.waitFor(0)).toEqual([]);
  });

  test("a timeout rejects and says what did arrive", async () => {
    await post("/only", "");
    await expect(sink.waitFor(2, 100)).rejects.toThrow("sink: timed out after 100 ms waiting for 2 requests; got 1 (POST /only)");
  });
});

describe("sink close", () => {
  test("cuts hanging requests, rejects waiters, refuses new connections", async () => {
    const own = await startSink();
    own.respondWith({ hang: true });
    const hanging = fetch(own.url(), { method: "POST", body: "x" }).catch((e: Error) => e);
    await own.waitFor(1);
    const waiting = own.waitFor(5, 10_000).catch((e: Error) => e);
    await own.close();
    expect(await hanging).toBeInstanceOf(Error);
    expect(await waiting).toEqual(new Error("sink: closed"));
    const after = await fetch(own.url()).catch((e: Error & { code?: string }) => e);
    expect((after as { code?: string }).code).toBe("ECONNREFUSED");
  });
});
