// Recovery: the compiled daemon restarts on a data folder holding 100,000 undelivered
// events (the receiver was down); figure: spawn → the first delivery arriving. Baseline in
// the same run: the same restart with a single event pending.
// Usage: bun bench/recovery.ts [--pending 100000]
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ingestMessage } from "../src/ingest/ingest.ts";
import { openStore } from "../src/store/db.ts";
import { textMessage } from "../test/support/messages.ts";
import { startBinaryDaemon } from "./harness.ts";
import { emit, median } from "./lib.ts";
import { spawnSink } from "./sink.ts";

const { values } = parseArgs({ options: { pending: { type: "string", default: "100000" }, runs: { type: "string", default: "3" } } });
const PENDING = Number(values.pending);
const RUNS = Number(values.runs);

/** A data folder with a webhook to `url` and `n` events queued for it. */
async function folderWith(n: number, url: string): Promise<string> {
  const first = await startBinaryDaemon(null);
  const hook = await first.api("POST", "/v1/webhooks", { url, events: ["message.received"] });
  if (hook.status !== 201) throw new Error(JSON.stringify(hook.body));
  await first.stop();
  const store = openStore(join(first.dir, "data", "wahook.db"));
  const deps = { store, wake: () => {} };
  for (let start = 0; start < n; start += 5_000) {
    store.sqlite.transaction(() => {
      for (let i = start; i < Math.min(n, start + 5_000); i++) {
        ingestMessage(deps, textMessage({ id: `R${i}`, chatId: `4915550${String(i % 500).padStart(5, "0")}@c.us`, timestamp: 1_764_000_000 + i }));
      }
    })();
  }
  store.close();
  return first.dir;
}

/** Copies are cheaper than refilling: each run restarts on a fresh copy of the same folder. */
async function timeToFirstDelivery(folder: string, sink: Awaited<ReturnType<typeof spawnSink>>): Promise<number> {
  const copy = `${folder}-run-${Math.random().toString(36).slice(2)}`;
  Bun.spawnSync(["cp", "-a", folder, copy]);
  await sink.reset();
  const t0 = performance.now();
  const daemon = await startBinaryDaemon(null, { dataDir: copy });
  await sink.waitCount(1, 30_000);
  const ms = performance.now() - t0;
  await daemon.stop();
  daemon.clean();
  return ms;
}

const sink = await spawnSink();
const big = await folderWith(PENDING, sink.url);
const small = await folderWith(1, sink.url);
const bigRuns: number[] = [];
const smallRuns: number[] = [];
for (let i = 0; i < RUNS; i++) {
  smallRuns.push(await timeToFirstDelivery(small, sink));
  bigRuns.push(await timeToFirstDelivery(big, sink));
}
Bun.spawnSync(["rm", "-rf", big, small]);
await sink.close();
emit({
  bench: "recovery",
  metric: `restart to first delivery with ${PENDING} pending (median of ${RUNS})`,
  value: median(bigRuns),
  unit: "ms",
  baseline: { metric: "the same restart with 1 pending", value: median(smallRuns) },
  target: "< 2000 ms",
  pass: median(bigRuns) < 2_000,
  extra: { runs_ms: bigRuns.map((n) => Math.round(n)), baseline_runs_ms: smallRuns.map((n) => Math.round(n)) },
});
process.exit(0);
