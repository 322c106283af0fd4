// Many accounts in one daemon: what N paired accounts cost and how the daemon behaves when
// all of them (re)connect at once. For each N (default 1, 10, 100, 400, 800), on one growing
// set of accounts paired through the API:
// - restart to all open: SIGTERM, start, until the API shows every account `open`;
// - RSS steady (all open, idle) and at the reconnect peak (sampled every 50 ms through the
//   restart and the storm), and idle CPU over 10 s;
// - the storm: the emulator drops every connection; time until all are open again, each
//   device's logins (exactly one more each), and the p99 of API requests made meanwhile
//   (/health, one account, a page of accounts; one after another);
// - live latency at 1 message a second per account (starts spread over a second), from the
//   emulated phone's send to the webhook request, after each contact has written once.
// Baselines from the same run: the API's p99 with nothing going on, the start-to-healthy of
// the daemon with no account, the RSS of the daemon with no account.
// The emulator and the receiver each run in a process of their own; the emulated accounts
// have 3 contacts and no history, so these are lower bounds for real accounts.
// Usage: bun bench/accounts.ts [--n 1,10,100,400,800]
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { startEmulatorProcess, type EmulatorInfo } from "../test/support/e2e.ts";
import { BENCH_KEY, startBinaryDaemon, type BenchDaemon } from "./harness.ts";
import { emit, percentile, rssMb } from "./lib.ts";
import { spawnSink } from "./sink.ts";

const { values } = parseArgs({ options: { n: { type: "string", default: "1,10,100,400,800" } } });
const COUNTS = values.n.split(",").map(Number).sort((a, b) => a - b);
const BENCH = "accounts";
const PAIR_CONCURRENCY = 8;
const LIVE_SECONDS = 10;
const CONTACTS = 3;
/** A 1/2/4 GB machine leaves about this share of its memory to wahook (the OS, the page cache). */
const VPS_SHARE = 0.75;

const emulator = await startEmulatorProcess(["--no-history", "--seed", "bench-accounts"]);
const emu: EmulatorInfo = emulator.info;
const sink = await spawnSink();
const env = { WAHOOK_WA_URL: emu.url, WAHOOK_WA_MEDIA_URL: emu.mediaUrl, WAHOOK_WA_ROOT_KEY: emu.rootPublicKeyHex };

async function admin(method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(emu.adminUrl + path, { method, body: body === undefined ? undefined : JSON.stringify(body), headers: { "content-type": "application/json" } });
  const text = await res.text();
  if (!res.ok) throw new Error(`emulator ${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** CPU time (user + system) of a process in ms, from /proc (100 ticks a second). */
async function cpuMs(pid: number): Promise<number> {
  const raw = await Bun.file(`/proc/${pid}/stat`).text();
  const fields = raw.slice(raw.lastIndexOf(") ") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Samples a process's RSS every 50 ms until stopped; resolves to the highest. */
function rssPeak(pid: number): { stop(): Promise<number> } {
  let peak = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      peak = Math.max(peak, await rssMb(pid).catch(() => 0));
      await Bun.sleep(50);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return peak;
    },
  };
}

/** Every account with its state, page by page (200 is the API's largest page). */
async function accountStates(daemon: BenchDaemon): Promise<{ id: string; state: string }[]> {
  const out: { id: string; state: string }[] = [];
  let cursor: string | null = "";
  while (cursor !== null) {
    const page = await daemon.api("GET", `/v1/accounts?limit=200${cursor ? `&cursor=${cursor}` : ""}`);
    out.push(...page.body.data);
    cursor = page.body.next_cursor;
  }
  return out;
}

async function waitAllOpen(daemon: BenchDaemon, n: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const states = await accountStates(daemon);
    if (states.length === n && states.every((a) => a.state === "open")) return;
    if (Date.now() > until) throw new Error(`not all ${n} accounts open after ${timeoutMs} ms: ${JSON.stringify(countBy(states))}`);
    await Bun.sleep(100);
  }
}

const countBy = (states: { state: string }[]) => states.reduce<Record<string, number>>((m, a) => ((m[a.state] = (m[a.state] ?? 0) + 1), m), {});

/** API requests one after another (/health, one account, a page), each timed, until stopped. */
function probeApi(daemon: BenchDaemon, ids: string[]): { stop(): Promise<number[]> } {
  const times: number[] = [];
  let running = true;
  const paths = () => ["/health", `/v1/accounts/${ids[Math.floor(Math.random() * ids.length)]}`, "/v1/accounts?limit=50"];
  const loop = (async () => {
    while (running) {
      for (const path of paths()) {
        const t0 = performance.now();
        const res = await fetch(daemon.url + path, { headers: { authorization: `Bearer ${BENCH_KEY}` } });
        await res.arrayBuffer();
        times.push(performance.now() - t0);
      }
      await Bun.sleep(10);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return times.sort((a, b) => a - b);
    },
  };
}

/** Pairs accounts through the API and the emulator's admin API, `PAIR_CONCURRENCY` at a time. */
async function pairUpTo(daemon: BenchDaemon, phones: string[], ids: string[], n: number): Promise<void> {
  let next = phones.length;
  const one = async () => {
    while (next < n) {
      const phone = `1555${String(next++).padStart(7, "0")}`;
      await admin("POST", "/devices", { phone, pushName: `Shop ${phone.slice(-4)}`, history: { enabled: false } });
      const created = await daemon.api("POST", "/v1/accounts", { name: `bench ${phone}` });
      if (created.status !== 201) throw new Error(`create: ${JSON.stringify(created.body)}`);
      const qr = await daemon.api("GET", `/v1/accounts/${created.body.id}/qr`);
      if (qr.status !== 200) throw new Error(`qr: ${JSON.stringify(qr.body)}`);
      await admin("POST", `/devices/${phone}/scan`, { qr: qr.body.qr, pushName: `Shop ${phone.slice(-4)}` });
      phones.push(phone);
      ids.push(created.body.id);
    }
  };
  await Promise.all(Array.from({ length: PAIR_CONCURRENCY }, one));
  await waitAllOpen(daemon, n, 120_000);
}

async function logins(): Promise<Map<string, number>> {
  const devices = (await admin("GET", "/devices")) as { phone: string; devices: { logins: number }[] }[];
  return new Map(devices.map((d) => [d.phone, d.devices.reduce((s, x) => s + x.logins, 0)]));
}

/** Live latency at 1 msg/s per account: each account's phone starts its messages at its own moment within a second. */
async function liveLatency(phones: string[], round: number): Promise<{ p50: number; p99: number; count: number }> {
  // Every contact writes once first: a contact's first message opens a Signal session, a
  // cost paid once per contact and not what this measures.
  await sink.reset();
  await Promise.all(phones.map((phone) => admin("POST", `/devices/${phone}/burst`, { count: CONTACTS, contacts: CONTACTS, prefix: `warm${round}` })));
  await sink.waitCount(phones.length * CONTACTS, 120_000);
  await sink.reset();
  const prefix = `live${round}`;
  const step = 1000 / phones.length;
  for (let i = 0; i < phones.length; i++) {
    const due = i * step;
    void Bun.sleep(due).then(() => admin("POST", `/devices/${phones[i]}/burst`, { count: LIVE_SECONDS, rate: 1, contacts: CONTACTS, prefix }));
  }
  const expected = phones.length * LIVE_SECONDS;
  await sink.waitCount(expected, 60_000 + LIVE_SECONDS * 1000);
  const latencies = (await sink.arrivals())
    .filter((a) => a.text.startsWith(`${prefix} `))
    .map((a) => a.at - Number(a.text.split(" ")[2]))
    .sort((a, b) => a - b);
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), count: latencies.length };
}

// ---- baselines: the daemon with no account --------------------------------------------------------
let t0 = performance.now();
let daemon = await startBinaryDaemon(null, { env });
const emptyStartMs = performance.now() - t0;
const dir = daemon.dir;
await Bun.sleep(2_000);
const emptyRss = await rssMb(daemon.pid);
const idleProbe = probeApi(daemon, ["none"]);
await Bun.sleep(3_000);
const idleTimes = await idleProbe.stop();
const idleP99 = percentile(idleTimes, 99);
await daemon.api("POST", "/v1/webhooks", { url: sink.url, events: ["message.received"], max_concurrency: 16 });

const phones: string[] = [];
const ids: string[] = [];
const rows: { n: number; restartMs: number; steady: number; peak: number; idleCpu: number; stormMs: number; stormP99: number }[] = [];
for (const [round, n] of COUNTS.entries()) {
  const pairStart = performance.now();
  await pairUpTo(daemon, phones, ids, n);
  const pairMs = performance.now() - pairStart;

  // Restart: every account reconnects at start-up.
  await daemon.stop();
  t0 = performance.now();
  daemon = await startBinaryDaemon(null, { dataDir: dir, env });
  const restartPeak = rssPeak(daemon.pid);
  await waitAllOpen(daemon, n, 300_000);
  const restartMs = performance.now() - t0;
  await Bun.sleep(3_000);

  // Steady: all open, nothing happening.
  const steady = await rssMb(daemon.pid);
  const cpuBefore = await cpuMs(daemon.pid);
  await Bun.sleep(10_000);
  const idleCpu = ((await cpuMs(daemon.pid)) - cpuBefore) / 10_000;

  // The storm: every connection dropped at once.
  const before = await logins();
  const probe = probeApi(daemon, ids);
  const stormStart = performance.now();
  await admin("POST", "/faults", { type: "drop" });
  // Every account is seen down before it counts as back.
  const seenDown = new Set<string>();
  for (;;) {
    const states = await accountStates(daemon);
    for (const a of states) if (a.state !== "open") seenDown.add(a.id);
    const after = await logins();
    if (phones.every((p) => (after.get(p) ?? 0) > (before.get(p) ?? 0)) && states.every((a) => a.state === "open")) break;
    if (performance.now() - stormStart > 300_000) throw new Error("storm: not all back after 300 s");
    await Bun.sleep(100);
  }
  const stormMs = performance.now() - stormStart;
  const times = await probe.stop();
  const peak = await restartPeak.stop();
  await Bun.sleep(2_000);
  const after = await logins();
  const twice = phones.filter((p) => (after.get(p) ?? 0) - (before.get(p) ?? 0) !== 1).length;
  const stormP99 = percentile(times, 99);

  const live = await liveLatency(phones, round);
  // Other work on the machine shows here: the figures are only as quiet as it was.
  const extra = { n, row: "", load_1m: +loadavg()[0]!.toFixed(1) };
  const figure = (row: string, metric: string, value: number, unit: string, more: Partial<Parameters<typeof emit>[0]> = {}, detail: Record<string, unknown> = {}) =>
    emit({ bench: BENCH, metric: `${metric}, ${n} account${n === 1 ? "" : "s"}`, value, unit, ...more, extra: { ...extra, row, ...detail } });
  figure("rss_steady", "RSS steady, all open", steady, "MB", { baseline: { metric: "daemon with no account", value: emptyRss } }, { per_account_mb: +((steady - emptyRss) / n).toFixed(3) });
  figure("rss_peak", "RSS at the reconnect peak", peak, "MB", { baseline: { metric: "daemon with no account", value: emptyRss } }, { per_account_mb: +((peak - emptyRss) / n).toFixed(3) });
  figure("idle_cpu", "idle CPU, all open", idleCpu * 100, "% of a core", {}, { per_account_pct: +((idleCpu * 100) / n).toFixed(5) });
  figure("restart", "restart to all open", restartMs, "ms", { baseline: { metric: "start to healthy, no account", value: emptyStartMs } }, { pair_ms: Math.round(pairMs) });
  figure("storm", "all open again after every connection dropped", stormMs, "ms", { target: "each device logs in exactly once", pass: twice === 0 }, { not_exactly_once: twice, seen_down: seenDown.size });
  figure("storm_p99", "API p99 during the storm", stormP99, "ms", { baseline: { metric: "API p99, no account, idle", value: idleP99 }, target: "< 100 ms", pass: stormP99 < 100 }, { requests: times.length, max_ms: +times.at(-1)!.toFixed(1) });
  figure("live_p50", "live latency p50 at 1 msg/s per account", live.p50, "ms", {}, { messages: live.count });
  figure("live_p99", "live latency p99 at 1 msg/s per account", live.p99, "ms", {}, { messages: live.count });
  rows.push({ n, restartMs, steady, peak, idleCpu, stormMs, stormP99 });
}

// ---- sizing: memory at the reconnect peak, a straight line through the runs -------------------------
const fit = (points: { x: number; y: number }[]) => {
  const n = points.length;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  const slope = points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0) / Math.max(1e-9, points.reduce((s, p) => s + (p.x - mx) ** 2, 0));
  return { slope, base: my - slope * mx };
};
if (rows.length >= 2) {
  const line = fit(rows.map((r) => ({ x: r.n, y: r.peak })));
  for (const gb of [1, 2, 4]) {
    const accounts = Math.max(0, Math.floor((gb * 1024 * VPS_SHARE - line.base) / line.slope));
    emit({
      bench: BENCH,
      metric: `sizing: accounts on a ${gb} GB VPS (${VPS_SHARE * 100} % of its memory at the reconnect peak)`,
      value: accounts,
      unit: "accounts",
      extra: { row: "sizing", gb, share_of_memory: VPS_SHARE, mb_per_account: +line.slope.toFixed(3), base_mb: +line.base.toFixed(1) },
    });
  }
}

await daemon.stop();
daemon.clean();
await sink.close();
emulator.proc.kill("SIGTERM");
await emulator.proc.exited;
process.exit(0);
