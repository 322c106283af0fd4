// Why a burst's webhooks go out only after the burst (README, Performance): while a `ws`
// client (what Baileys uses) has frames waiting, Bun's event loop runs nothing else — no
// setImmediate, no fetch answer, no read of another socket — until the socket is read dry.
// The server sends N frames at once; the client spends about 200 µs on each (as Baileys
// does decrypting) while keeping three kinds of other work going. Each count during the
// stream stands next to the same count over the same time with no stream.
// Not part of `bun run bench` (it measures Bun, not wahook). Usage: bun bench/starvation.ts [--frames 5000]
import { parseArgs } from "node:util";
// @ts-expect-error -- `ws` ships no types; it is the client Baileys uses, so the probe uses it too.
import WebSocket from "ws";
import { emit } from "./lib.ts";

const { values } = parseArgs({ options: { frames: { type: "string", default: "5000" } } });
const N = Number(values.frames);
const WORK_US = 200;
const spin = (us: number) => {
  const end = performance.now() + us / 1000;
  while (performance.now() < end);
};

const sink = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("ok") });
const source = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  fetch: (req, server) => (server.upgrade(req) ? undefined : new Response("upgrade", { status: 400 })),
  websocket: {
    message() {},
    open(ws) {
      for (let i = 0; i < N; i++) ws.send(new Uint8Array(300));
    },
  },
});

/** Other work that keeps asking for turns: a setImmediate chain, 16 fetches, a raw HTTP ping-pong. */
function otherWork() {
  const counts = { immediates: 0, fetches: 0, socketReads: 0 };
  let on = true;
  const tick = () => {
    if (!on) return;
    counts.immediates++;
    setImmediate(tick);
  };
  setImmediate(tick);
  const oneFetch = (): void => {
    if (!on) return;
    void fetch(sink.url, { method: "POST", body: "x" }).then(async (r) => {
      await r.text();
      if (!on) return;
      counts.fetches++;
      oneFetch();
    });
  };
  for (let i = 0; i < 16; i++) oneFetch();
  const request = `POST / HTTP/1.1\r\nHost: sink\r\nContent-Length: 1\r\n\r\nx`;
  const conn = Bun.connect({
    hostname: "127.0.0.1",
    port: sink.port!,
    socket: {
      data(s, d) {
        if (!on) return;
        counts.socketReads++;
        for (let i = 0; i < (d.toString().match(/HTTP\/1\.1/g) ?? []).length; i++) s.write(request);
      },
    },
  }).then((s) => (s.write(request), s));
  return {
    counts,
    stop: async () => {
      on = false;
      (await conn).end();
    },
  };
}

// The stream.
const during = otherWork();
const started = performance.now();
let got = 0;
const streamMs = await new Promise<number>((resolve) => {
  const ws = new WebSocket(`ws://127.0.0.1:${source.port}`);
  ws.on("message", async () => {
    got++;
    spin(WORK_US / 2);
    await null;
    spin(WORK_US / 2);
    if (got === N) {
      resolve(performance.now() - started);
      ws.close();
    }
  });
});
const inStream = { ...during.counts };
await during.stop();

// The same time, no stream.
const idle = otherWork();
await Bun.sleep(streamMs);
const inIdle = { ...idle.counts };
await idle.stop();

for (const [key, label] of [
  ["immediates", "setImmediate callbacks"],
  ["fetches", "fetch answers (16 in flight)"],
  ["socketReads", "reads of another socket"],
] as const) {
  emit({
    bench: "starvation",
    metric: `${label} while a ws client handles ${N} frames sent at once (${streamMs.toFixed(0)} ms)`,
    value: inStream[key],
    unit: "count",
    baseline: { metric: "the same, for as long, without the stream", value: inIdle[key] },
    extra: { stream_ms: Math.round(streamMs), work_us_per_frame: WORK_US },
  });
}
sink.stop(true);
source.stop(true);
process.exit(0);
