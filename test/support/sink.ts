// A webhook receiver for tests. It is a raw TCP server speaking just enough HTTP/1.1,
// because the misbehaviours the delivery worker must survive (an answer that never
// comes, a connection closed with no answer at all, a body that trickles) cannot be
// produced faithfully by an HTTP server library that insists on answering properly.
import { createServer, type Socket } from "node:net";

export interface SinkRequest {
  method: string;
  /** Path and query, as sent. */
  path: string;
  /** Names lowercased; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
  /** Date.now() when the whole request had arrived. */
  receivedAt: number;
  /** performance.now() at the same moment, for measuring intervals. */
  receivedMono: number;
}

export interface Reply {
  /** Default 200, or 302 with `redirect`. */
  status?: number;
  /** E.g. { "retry-after": "5" } or an HTTP date. */
  headers?: Record<string, string>;
  body?: string;
  /** Send this many bytes of filler instead of `body` (e.g. 10 MB). */
  bodyBytes?: number;
  /** Wait this long before the status line. */
  delayMs?: number;
  /** Send the body in pieces of `chunkBytes`, `intervalMs` apart. */
  slowBody?: { chunkBytes: number; intervalMs: number };
  /** Answer with this Location (status 302 unless `status` says otherwise). */
  redirect?: string;
  /** Never answer; the connection stays open until the client gives up or the sink closes. */
  hang?: boolean;
  /** Close the TCP connection without any answer. */
  drop?: boolean;
}

/** Called for each request; `index` counts from 0 since the last reset(). */
export type Responder = (request: SinkRequest, index: number) => Reply | Promise<Reply>;

export interface Sink {
  url(path?: string): string;
  readonly requests: SinkRequest[];
  /** A function, one reply for every request, or a plan: one reply per request in turn, then the default. */
  respondWith(how: Responder | Reply | Reply[]): void;
  /** Resolves with all requests so far once `count` have arrived or `predicate` holds. */
  waitFor(until: number | ((requests: SinkRequest[]) => boolean), timeoutMs?: number): Promise<SinkRequest[]>;
  /** Forgets recorded requests and goes back to the default reply (200 "ok"). */
  reset(): void;
  close(): Promise<void>;
}

const DEFAULT_REPLY: Reply = { status: 200, body: "ok" };
const defaultResponder: Responder = () => DEFAULT_REPLY;

interface Waiter {
  done(requests: SinkRequest[]): boolean;
  resolve(requests: SinkRequest[]): void;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

export async function startSink(): Promise<Sink> {
  const requests: SinkRequest[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<ReturnType<typeof setTimeout>>();
  let waiters: Waiter[] = [];
  let responder = defaultResponder;
  let closed = false;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });

  function record(request: SinkRequest): number {
    requests.push(request);
    waiters = waiters.filter((w) => {
      if (!w.done(requests)) return true;
      clearTimeout(w.timer);
      w.resolve([...requests]);
      return false;
    });
    return requests.length - 1;
  }

  // Returns false when the connection must not be read any more.
  async function answer(socket: Socket, request: SinkRequest): Promise<boolean> {
    const reply = await responder(request, record(request));
    if (reply.drop) {
      socket.destroy();
      return false;
    }
    if (reply.hang) return false;
    if (reply.delayMs) await sleep(reply.delayMs);
    if (socket.destroyed) return false;

    const body = reply.bodyBytes !== undefined ? Buffer.alloc(reply.bodyBytes, "x") : Buffer.from(reply.body ?? "");
    const status = reply.status ?? (reply.redirect ? 302 : 200);
    const keepAlive = request.headers.connection?.toLowerCase() !== "close";
    const headers: Record<string, string> = {
      "content-type": "text/plain",
      ...(reply.redirect ? { location: reply.redirect } : {}),
      ...lowercased(reply.headers ?? {}),
      "content-length": String(body.length),
      connection: keepAlive ? "keep-alive" : "close",
    };
    const head = [`HTTP/1.1 ${status} ${REASONS[status] ?? "Status"}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
    socket.write(head.join("\r\n") + "\r\n\r\n");
    if (reply.slowBody) {
      const { chunkBytes, intervalMs } = reply.slowBody;
      for (let offset = 0; offset < body.length && !socket.destroyed; offset += chunkBytes) {
        if (offset > 0) await sleep(intervalMs);
        socket.write(body.subarray(offset, offset + chunkBytes));
      }
    } else {
      socket.write(body);
    }
    if (!keepAlive) socket.end();
    return keepAlive && !socket.destroyed;
  }

  function serve(socket: Socket): void {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    // A client that gives up (abort, timeout) resets the connection: expected here.
    socket.on("error", () => {});
    let buffer = Buffer.alloc(0);
    let busy = false;
    let open = true;
    const pump = async () => {
      if (busy || !open) return;
      busy = true;
      try {
        for (let parsed = parseRequest(buffer); parsed && open; parsed = parseRequest(buffer)) {
          buffer = buffer.subarray(parsed.consumed);
          open = await answer(socket, parsed.request);
        }
      } catch (error) {
        // A malformed request or a throwing responder: say so, and give the client an error.
        console.error("sink:", error);
        open = false;
        socket.destroy();
      }
      busy = false;
    };
    socket.on("data", (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      void pump();
    });
  }

  const server = createServer(serve);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("sink: no TCP address");
  const base = `http://127.0.0.1:${address.port}`;

  return {
    url: (path = "/") => base + (path.startsWith("/") ? path : `/${path}`),
    requests,
    respondWith(how) {
      if (typeof how === "function") responder = how;
      else if (Array.isArray(how)) {
        let next = 0;
        responder = () => how[next++] ?? DEFAULT_REPLY;
      } else responder = () => how;
    },
    waitFor(until, timeoutMs = 5000) {
      const done = typeof until === "number" ? (r: SinkRequest[]) => r.length >= until : until;
      if (done(requests)) return Promise.resolve([...requests]);
      return new Promise((resolve, reject) => {
        const waiter: Waiter = {
          done,
          resolve,
          reject,
          timer: setTimeout(() => {
            waiters = waiters.filter((w) => w !== waiter);
            const seen = requests.map((r) => `${r.method} ${r.path}`).join(", ") || "none";
            const wanted = typeof until === "number" ? `${until} requests` : "the predicate";
            reject(new Error(`sink: timed out after ${timeoutMs} ms waiting for ${wanted}; got ${requests.length} (${seen})`));
          }, timeoutMs),
        };
        waiters.push(waiter);
      });
    },
    reset() {
      requests.length = 0;
      responder = defaultResponder;
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      for (const waiter of waiters) {
        clearTimeout(waiter.timer);
        waiter.reject(new Error("sink: closed"));
      }
      waiters = [];
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await stopped;
    },
  };
}

const REASONS: Record<number, string> = {
  200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 301: "Moved Permanently", 302: "Found",
  307: "Temporary Redirect", 308: "Permanent Redirect", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found",
  410: "Gone", 413: "Content Too Large", 429: "Too Many Requests", 500: "Internal Server Error",
  502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout",
};

function lowercased(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}

const CRLF = Buffer.from("\r\n");

// One complete request at the start of `buffer`, or null while more bytes are needed.
function parseRequest(buffer: Buffer): { request: SinkRequest; consumed: number } | null {
  const headEnd = buffer.indexOf("\r\n\r\n");
  if (headEnd < 0) return null;
  const [requestLine = "", ...lines] = buffer.subarray(0, headEnd).toString("latin1").split("\r\n");
  const [method = "", path = ""] = requestLine.split(" ");
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  const bodyStart = headEnd + 4;
  const body = headers["transfer-encoding"]?.toLowerCase().includes("chunked")
    ? dechunk(buffer, bodyStart)
    : fixedBody(buffer, bodyStart, Number(headers["content-length"] ?? 0));
  if (!body) return null;
  const text = body.bytes.toString("utf8");
  const request: SinkRequest = {
    method,
    path,
    headers,
    body: text,
    json: parseJson(text),
    receivedAt: Date.now(),
    receivedMono: performance.now(),
  };
  return { request, consumed: body.end };
}

function fixedBody(buffer: Buffer, start: number, length: number): { bytes: Buffer; end: number } | null {
  return buffer.length < start + length ? null : { bytes: buffer.subarray(start, start + length), end: start + length };
}

function dechunk(buffer: Buffer, start: number): { bytes: Buffer; end: number } | null {
  const parts: Buffer[] = [];
  let at = start;
  for (;;) {
    const lineEnd = buffer.indexOf(CRLF, at);
    if (lineEnd < 0) return null;
    const sizeText = buffer.subarray(at, lineEnd).toString("latin1").split(";")[0]?.trim() ?? "";
    if (!/^[0-9a-f]+$/i.test(sizeText)) throw new Error(`malformed chunk size "${sizeText}"`);
    const size = parseInt(sizeText, 16);
    at = lineEnd + 2;
    if (size === 0) {
      // Skip trailer fields up to the empty line that ends the message.
      for (;;) {
        const end = buffer.indexOf(CRLF, at);
        if (end < 0) return null;
        const empty = end === at;
        at = end + 2;
        if (empty) return { bytes: Buffer.concat(parts), end: at };
      }
    }
    if (buffer.length < at + size + 2) return null;
    parts.push(buffer.subarray(at, at + size));
    at += size + 2;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
