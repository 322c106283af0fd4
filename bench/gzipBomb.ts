// Whether a receiver answering with a compression bomb delays the webhooks of others
// (README: "one slow endpoint never delays another"). Bun's fetch unpacks answers on its
// one HTTP client thread, which every request shares, and goes on after the body is
// cancelled; sendAttempt asks for `decompress: false` so it never starts. A healthy
// receiver's latency over N sequential sendAttempts is measured alone, then while a second
// loop of sendAttempts hits a receiver whose ~200 KB gzip answer unpacks to ~200 MB, and,
// as the fair comparison, while that loop gets the same bytes without `content-encoding`
// (what any second loop costs: it shares the HTTP client thread and the CPU).
// The receivers run in a child process, so only the sending side is measured here.
// Not part of `bun run bench` (a security check, not a performance figure).
// Usage: bun bench/gzipBomb.ts [--requests 200] [--inflated-mb 200] [--encoding gzip|zstd]
import { parseArgs } from "node:util";
import { gzipSync, zstdCompressSync } from "node:zlib";
import { sendAttempt } from "../src/delivery/send.ts";
import { emit, percentile } from "./lib.ts";

const { values } = parseArgs({
  options: {
    requests: { type: "string", default: "200" },
    "inflated-mb": { type: "string", default: "200" },
    encoding: { type: "string", default: "gzip" },
    receivers: { type: "boolean", default: false },
  },
});
const encoding = values.encoding === "zstd" ? "zstd" : "gzip";
const inflatedMb = Number(values["inflated-mb"]);

/**
 * Concatenated gzip members (and zstd frames) unpack to the concatenation of their
 * contents, so one small compressed block repeated gives any size without compressing it.
 */
function bomb() {
  const blockMb = encoding === "zstd" ? 16 : 1;
  const zeros = Buffer.alloc(blockMb * 1024 * 1024);
  const block = encoding === "zstd" ? zstdCompressSync(zeros) : gzipSync(zeros, { level: 9 });
  return Buffer.concat(Array<Buffer>(Math.ceil(inflatedMb / blockMb)).fill(block));
}

// Child process: the receivers, on one port; prints it as one JSON line.
if (values.receivers) {
  const answer = bomb();
  const receivers = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const path = new URL(req.url).pathname;
      if (path === "/bomb") return new Response(answer, { headers: { "content-encoding": encoding } });
      if (path === "/plain") return new Response(answer);
      return new Response("ok");
    },
  });
  console.log(JSON.stringify({ port: receivers.port, bombBytes: answer.byteLength }));
} else {
  await main();
}

async function main(): Promise<void> {
  const child = Bun.spawn(["bun", import.meta.path, "--receivers", "--encoding", encoding, "--inflated-mb", String(inflatedMb)], { stdout: "pipe", stderr: "inherit" });
  const reader = (child.stdout as ReadableStream<Uint8Array>).getReader();
  const { value } = await reader.read();
  const { port, bombBytes } = JSON.parse(new TextDecoder().decode(value)) as { port: number; bombBytes: number };
  const n = Number(values.requests);
  const allow = { loopback: true, private: false, cidrs: [] };
  const send = (path: string) => sendAttempt({ url: `http://127.0.0.1:${port}${path}`, body: "{}", headers: { "content-type": "application/json" }, allow });

  /** n sequential attempts to the healthy receiver: latencies (ms, sorted) and how many failed (a stall past 15 s times out). */
  async function healthyRun(): Promise<{ ms: number[]; failed: number }> {
    const ms: number[] = [];
    let failed = 0;
    for (let i = 0; i < n; i++) {
      const started = performance.now();
      const sent = await send("/healthy");
      if (sent.statusCode !== 200) failed++;
      ms.push(performance.now() - started);
    }
    return { ms: ms.sort((a, b) => a - b), failed };
  }

  /** healthyRun while another loop of attempts gets `path`'s answer; also how many it made. */
  async function healthyRunBeside(path: string): Promise<{ ms: number[]; failed: number; others: number }> {
    let on = true;
    let others = 0;
    const loop = (async () => {
      for (; on; others++) await send(path);
    })();
    const run = await healthyRun();
    on = false;
    await loop;
    return { ...run, others };
  }

  await healthyRun(); // warm-up: JIT, keep-alive connection
  const alone = await healthyRun();
  const besidePlain = await healthyRunBeside("/plain");
  const besideBomb = await healthyRunBeside("/bomb");

  const settings = { requests: n, encoding, inflated_mb: inflatedMb, answer_bytes: bombBytes, healthy_failed_alone: alone.failed };
  for (const [run, what] of [
    [besidePlain, `the same ${bombBytes} bytes without content-encoding`],
    [besideBomb, `a ${encoding} bomb (${bombBytes} bytes, ${inflatedMb} MB unpacked)`],
  ] as const) {
    for (const p of [50, 99]) {
      emit({
        bench: "gzipBomb",
        metric: `healthy receiver latency p${p} while another loop gets ${what}`,
        value: percentile(run.ms, p),
        unit: "ms",
        baseline: { metric: `healthy receiver latency p${p} alone`, value: percentile(alone.ms, p) },
        extra: { ...settings, healthy_failed: run.failed, other_loop_attempts: run.others },
      });
    }
  }
  child.kill();
  process.exit(0);
}
