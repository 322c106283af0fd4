// Start-up: how long the compiled binary, copied alone into an empty folder (so it creates
// and migrates a new database), takes from spawn to its first 200 on /health, and how much
// memory it holds when idle. The same-run baseline is a trivial compiled Bun HTTP server
// started the same way: what is left above it is wahook's own start-up work.
// Usage: bun bench/startup.ts [--runs 10]
import { copyFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { tempDir } from "../test/support/app.ts";
import { ensureBinary, freePort } from "../test/support/binary.ts";
import { emit, percentile, rssMb } from "./lib.ts";

const { values } = parseArgs({ options: { runs: { type: "string", default: "10" } } });
const RUNS = Number(values.runs);
const POLL_MS = 2;
const START_TIMEOUT_MS = 10_000;
const IDLE_MS = 3_000;
const KEY = "bench-admin-key-0123456789abcdef";

const BASELINE_SOURCE = `Bun.serve({ hostname: process.env.HOST, port: Number(process.env.PORT), fetch: () => new Response("ok") });\n`;

/** Compiles the trivial server once, the way dist/wahook is compiled. */
async function buildBaseline(): Promise<{ exe: string; dir: string }> {
  const dir = tempDir("wahook-bench-baseline-");
  writeFileSync(join(dir, "server.ts"), BASELINE_SOURCE);
  const exe = join(dir, "server");
  const build = Bun.spawn(["bun", "build", join(dir, "server.ts"), "--compile", "--outfile", exe], { stdout: "ignore", stderr: "inherit" });
  if ((await build.exited) !== 0) throw new Error("could not compile the baseline server");
  return { exe, dir };
}

interface Started {
  ms: number;
  pid: number;
  stop(): Promise<void>;
}

/**
 * Copies `exe` into a fresh empty folder, spawns it, and polls `path` every 2 ms until it
 * answers 200. The clock runs from just before spawn to that first 200.
 */
async function startOnce(exe: string, path: string, env: (dir: string, port: number) => Record<string, string>): Promise<Started> {
  const dir = tempDir("wahook-bench-start-");
  const copy = join(dir, "exe");
  copyFileSync(exe, copy);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}${path}`;
  const t0 = performance.now();
  const proc = Bun.spawn([copy], { cwd: dir, env: { PATH: process.env.PATH ?? "", HOME: dir, ...env(dir, port) }, stdout: "ignore", stderr: "pipe" });
  for (;;) {
    try {
      const res = await fetch(url);
      if (res.status === 200) break;
    } catch {}
    if (proc.exitCode !== null || performance.now() - t0 > START_TIMEOUT_MS) {
      proc.kill("SIGKILL");
      throw new Error(`${exe} did not answer 200 on ${path} (exit ${proc.exitCode}): ${await new Response(proc.stderr).text()}`);
    }
    await Bun.sleep(POLL_MS);
  }
  const ms = performance.now() - t0;
  return {
    ms,
    pid: proc.pid,
    async stop() {
      proc.kill("SIGTERM");
      await proc.exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// The data folder does not exist yet: the binary creates it, the database and its schema.
const wahookEnv = (dir: string, port: number) => ({
  WAHOOK_DATA_DIR: join(dir, "data"),
  WAHOOK_API_KEY: KEY,
  WAHOOK_HOST: "127.0.0.1",
  WAHOOK_PORT: String(port),
  WAHOOK_LOG_LEVEL: "warn",
});
const baselineEnv = (_dir: string, port: number) => ({ HOST: "127.0.0.1", PORT: String(port) });

const wahook = await ensureBinary();
const baseline = await buildBaseline();
const wahookMs: number[] = [];
const baselineMs: number[] = [];
let idleRss = Number.NaN;

// Interleaved, so a slower moment of a shared machine hits both series alike.
for (let i = 0; i < RUNS; i++) {
  const b = await startOnce(baseline.exe, "/", baselineEnv);
  baselineMs.push(b.ms);
  await b.stop();

  const w = await startOnce(wahook, "/health", wahookEnv);
  wahookMs.push(w.ms);
  if (i === 0) {
    await Bun.sleep(IDLE_MS);
    idleRss = await rssMb(w.pid);
  }
  await w.stop();
}
rmSync(baseline.dir, { recursive: true, force: true });

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const w = sorted(wahookMs);
const b = sorted(baselineMs);
const round = (xs: number[]) => xs.map((x) => +x.toFixed(1));
const p50 = percentile(w, 50);
const max = w.at(-1)!;

emit({
  bench: "startup",
  metric: "start to healthy p50",
  value: p50,
  unit: "ms",
  baseline: { metric: "trivial compiled Bun server, start to first answer p50", value: +percentile(b, 50).toFixed(3) },
  target: "< 300 ms",
  pass: p50 < 300,
  extra: { runs: RUNS, poll_ms: POLL_MS, wahook_ms: round(wahookMs), baseline_ms: round(baselineMs) },
});
emit({
  bench: "startup",
  metric: "start to healthy max",
  value: max,
  unit: "ms",
  baseline: { metric: "trivial compiled Bun server, start to first answer max", value: +b.at(-1)!.toFixed(3) },
  target: "< 300 ms",
  pass: max < 300,
  extra: { runs: RUNS },
});
emit({
  bench: "startup",
  metric: "idle RSS",
  value: idleRss,
  unit: "MB",
  target: "< 100 MB",
  pass: idleRss < 100,
  extra: { idle_s: IDLE_MS / 1000, fresh_database: true, accounts: 0 },
});
