// A webhook receiver for end-to-end benchmarks, in a process of its own: on 2 cores a
// receiver sharing the emulator's event loop would answer late and slow per-chat delivery
// down for reasons that are not the daemon's. It keeps one small record per request.
// As a program: `bun bench/sink.ts` prints {"port"}; imported: spawnSink() starts one.
export interface Arrival {
  chat: string;
  seq: number;
  id: string;
  text: string;
  webhookId: string;
  history: boolean;
  /** The request body's length in bytes. */
  bytes: number;
  /** Wall-clock ms when the request had arrived. */
  at: number;
}

const wall = () => performance.timeOrigin + performance.now();

function serve(): void {
  let arrivals: Arrival[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const url = new URL(req.url);
      if (req.method === "POST") {
        const at = wall();
        const raw = await req.text();
        const body = JSON.parse(raw) as { chat_id?: string; seq: number; history?: boolean; message?: { id: string; text: string | null } };
        arrivals.push({
          chat: body.chat_id ?? "",
          seq: body.seq,
          id: body.message?.id ?? "",
          text: body.message?.text ?? "",
          webhookId: req.headers.get("webhook-id") ?? "",
          history: body.history === true,
          bytes: Buffer.byteLength(raw),
          at,
        });
        return new Response("ok");
      }
      if (url.pathname === "/count") return new Response(String(arrivals.length));
      if (url.pathname === "/arrivals") return Response.json(arrivals.slice(Number(url.searchParams.get("from") ?? 0)));
      if (url.pathname === "/reset") {
        arrivals = [];
        return new Response("ok");
      }
      return new Response("not found", { status: 404 });
    },
  });
  process.stdout.write(`${JSON.stringify({ port: server.port })}\n`);
}

export interface SinkProcess {
  url: string;
  pid: number;
  count(): Promise<number>;
  arrivals(): Promise<Arrival[]>;
  reset(): Promise<void>;
  waitCount(n: number, timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

export async function spawnSink(): Promise<SinkProcess> {
  const proc = Bun.spawn(["bun", import.meta.path], { stdout: "pipe", stderr: "inherit" });
  const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { done, value } = await reader.read();
    if (done) throw new Error("sink ended before it listened");
    text += new TextDecoder().decode(value);
  }
  const base = `http://127.0.0.1:${(JSON.parse(text.slice(0, text.indexOf("\n"))) as { port: number }).port}`;
  const sink: SinkProcess = {
    url: `${base}/hook`,
    pid: proc.pid,
    count: async () => Number(await (await fetch(`${base}/count`)).text()),
    arrivals: async () => (await fetch(`${base}/arrivals`)).json() as Promise<Arrival[]>,
    reset: async () => void (await fetch(`${base}/reset`)).text(),
    async waitCount(n, timeoutMs) {
      const until = Date.now() + timeoutMs;
      for (let c = await sink.count(); c < n; c = await sink.count()) {
        if (Date.now() > until) throw new Error(`sink: ${c} of ${n} requests after ${timeoutMs} ms`);
        await Bun.sleep(5);
      }
    },
    async close() {
      proc.kill();
      await proc.exited;
    },
  };
  return sink;
}

if (import.meta.main) serve();
