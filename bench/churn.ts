// A paired daemon over time:
// - start-up to healthy with one paired account, and its idle RSS once connected;
// - memory under churn: an hour's worth of traffic (100,000 messages in bursts, to a
//   receiver) with 50 reconnects (a new socket each time) in between. Figure: RSS at the
//   end against the settled RSS after the first tenth, same run (target: ≤ 1.2 ×).
// Usage: bun bench/churn.ts [--messages 100000] [--reconnects 50]
import { parseArgs } from "node:util";
import { startEmulator } from "../test/wa-emulator/emulator.ts";
import { pairAccount, startBinaryDaemon } from "./harness.ts";
import { waitUntil } from "../test/support/wait.ts";
import { emit, median, rssMb } from "./lib.ts";
import { spawnSink } from "./sink.ts";

const { values } = parseArgs({ options: { messages: { type: "string", default: "100000" }, reconnects: { type: "string", default: "50" } } });
const MESSAGES = Number(values.messages);
const RECONNECTS = Number(values.reconnects);
const PHONE = "15550009501";

const emu = await startEmulator({ seed: "bench-churn", history: { enabled: false } });
const sink = await spawnSink();
let daemon = await startBinaryDaemon(emu);
await daemon.api("POST", "/v1/webhooks", { url: sink.url, events: ["message.received"], max_concurrency: 16 });
const account = await pairAccount(daemon, emu, PHONE);
const open = async () => (await daemon.api("GET", `/v1/accounts/${account}`)).body.state === "open";

// ---- start-up and idle with one paired account -------------------------------------------------
const dir = daemon.dir;
await daemon.stop();
const startups: number[] = [];
for (let i = 0; i < 5; i++) {
  const t0 = performance.now();
  daemon = await startBinaryDaemon(emu, { dataDir: dir });
  startups.push(performance.now() - t0);
  await waitUntil(open, 20_000, "session resumed");
  if (i < 4) await daemon.stop();
}
await Bun.sleep(5_000);
const idle = await rssMb(daemon.pid);
emit({ bench: "churn", metric: "start to healthy, one paired account (median of 5)", value: median(startups), unit: "ms", target: "< 300 ms", pass: median(startups) < 300, extra: { runs_ms: startups.map(Math.round) } });
emit({ bench: "churn", metric: "idle RSS, one paired account, connected", value: idle, unit: "MB", target: "< 100 MB", pass: idle < 100 });

// ---- churn --------------------------------------------------------------------------------------
const dev = emu.device(PHONE);
const perCycle = Math.ceil(MESSAGES / RECONNECTS);
let sent = 0;
let settled = 0;
const samples: number[] = [];
for (let cycle = 0; cycle < RECONNECTS; cycle++) {
  await dev.sendBurst({ count: perCycle, contacts: 50, prefix: `c${cycle}` });
  sent += perCycle;
  await sink.waitCount(sent, 300_000);
  // A new socket: 515 is a restart without backoff, so 50 of them fit in the run.
  if (!process.env.NO_RECONNECT) emu.fault(PHONE, { type: "close", code: 515 });
  await waitUntil(async () => !(await open()), 5_000, "socket closed", 5).catch(() => {});
  await waitUntil(open, 20_000, "reconnected");
  const rss = await rssMb(daemon.pid);
  samples.push(rss);
  if (cycle === Math.floor(RECONNECTS / 10)) settled = rss;
}
await Bun.sleep(2_000);
const end = await rssMb(daemon.pid);
await daemon.stop();
daemon.clean();
await sink.close();
await emu.close();
emit({
  bench: "churn",
  metric: `RSS after ${sent} messages and ${RECONNECTS} reconnects`,
  value: end,
  unit: "MB",
  baseline: { metric: `settled RSS after ${Math.floor(RECONNECTS / 10) + 1} cycles`, value: settled },
  target: "≤ 1.2 × settled",
  pass: end <= 1.2 * settled,
  extra: { samples_mb: samples.map((n) => Math.round(n)) },
});
process.exit(0);
