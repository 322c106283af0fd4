// Live traffic, phone → webhook, through the compiled daemon, against the same traffic
// phone → bare Baileys in the same run:
// - latency: 2,000 texts paced at 200/s over 20 chats; from the emulator's send decision
//   to the webhook request arriving (ours) or to `messages.upsert` (baseline); in rounds
//   (default 4), each a share of the texts to every side in turn;
// - sustained throughput: 5,000 texts at once over 50 chats, delivered with per-chat order;
//   in rounds (default 3), each a baseline burst then one of ours, and the median round's
//   ratio is the figure: on a shared 2-core machine one pair of bursts ranged 0.49-0.75
//   for the same binary.
// Both also against a peer-style gateway (bench/peer-gateway.ts: bare Baileys plus one
// fetch per message to the same receiver, no storage, what WAHA and Evolution API do in
// memory), measured the same way to the receiver, its burst in each round between the two.
// The emulator runs in this process; the daemon, the receiver, the peer gateway and the bare
// client each in a process of their own; daemon and peer gateway send to the same receiver.
// Each burst also reports the CPU time every process spent on it, per message: the
// baseline alone keeps both cores of a 2-core machine busy (emulator and
// Baileys), so on such a machine the ratio is bound by how much more CPU we spend.
// Usage: bun bench/live.ts [--latency 2000] [--rate 200] [--latency-rounds 4] [--burst 5000] [--rounds 3]
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startEmulator } from "../test/wa-emulator/emulator.ts";
import { pairAccount, startBinaryDaemon } from "./harness.ts";
import { spawnSink } from "./sink.ts";
import { waitUntil } from "../test/support/wait.ts";
import { cpuMs, emit, percentile, readStat } from "./lib.ts";

const { values } = parseArgs({ options: { latency: { type: "string", default: "2000" }, rate: { type: "string", default: "200" }, burst: { type: "string", default: "5000" }, rounds: { type: "string", default: "3" }, "latency-rounds": { type: "string", default: "4" }, concurrency: { type: "string", default: "16" } } });
const LAT_N = Number(values.latency);
const RATE = Number(values.rate);
const BURST_N = Number(values.burst);
const CONCURRENCY = Number(values.concurrency);
const ROUNDS = Math.max(1, Number(values.rounds));
/** The latency texts in alternating rounds, so that every side sees the same stretches of a shared machine. */
const LAT_ROUNDS = Math.max(1, Number(values["latency-rounds"]));
const LAT_SIZES = Array.from({ length: LAT_ROUNDS }, (_, i) => Math.floor(LAT_N / LAT_ROUNDS) + (i < LAT_N % LAT_ROUNDS ? 1 : 0));

const emu = await startEmulator({ seed: "bench-live", history: { enabled: false } });
/** The receiver both the daemon and the peer gateway send to, one after the other. */
const sink = await spawnSink();

interface Arrival {
  latencies: number[];
  first: number;
  last: number;
}

// ---- CPU accounting ----------------------------------------------------------------------------
/** CPU ms each named process has used so far (this process: the emulator and the polling). */
async function cpuNow(pids: Record<string, number>): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const [name, pid] of Object.entries(pids)) out[name] = await cpuMs(pid);
  return out;
}
/**
 * One process's CPU in ms by thread kind: its main thread (all the JavaScript, SQLite and
 * socket reads), the main thread's system time alone, the JIT compiler's threads, and the
 * rest (GC helpers, allocator, HTTP client, the checkpoint thread).
 */
async function threadCpu(pid: number): Promise<Record<"main" | "main_sys" | "jit" | "other", number>> {
  const out = { main: 0, main_sys: 0, jit: 0, other: 0 };
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const stat = await readStat(`/proc/${pid}/task/${tid}/stat`);
    if (!stat) continue; // the thread ended meanwhile
    const { name, user, sys } = stat;
    if (Number(tid) === pid) (out.main += user + sys), (out.main_sys += sys);
    else if (name.startsWith("JITWorker")) out.jit += user + sys;
    else out.other += user + sys;
  }
  return out;
}
/** Per message, each entry's growth from `before` to `after` (ms). */
const perMessage = (after: Record<string, number>, before: Record<string, number>, n: number) =>
  Object.fromEntries(Object.entries(after).map(([k, v]) => [k, +((v - before[k]!) / n).toFixed(3)]));

/** CPU ms per message each named process spent since `before` (from cpuNow). */
async function cpuPerMessage(pids: Record<string, number>, before: Record<string, number>, n: number): Promise<Record<string, number>> {
  return perMessage(await cpuNow(pids), before, n);
}

interface Burst {
  /** Messages per second, from the first send to the last arrival. */
  rate: number;
  /** CPU ms per message, by process. */
  cpu: Record<string, number>;
  /** The client's (bare Baileys' or the daemon's) CPU ms per message, by thread kind. */
  threads: Record<string, number>;
}

/**
 * A bench child (bare-baileys.ts, peer-gateway.ts) in a process of its own: its JSON lines
 * collected, its QR scanned on the emulator as `phone`, ready once it says so.
 */
async function spawnPaired(args: string[], phone: string, label: string) {
  const child = Bun.spawn(["bun", join(import.meta.dir, args[0]!), ...args.slice(1)], { stdout: "pipe", stderr: "inherit" });
  const reader = (child.stdout as ReadableStream<Uint8Array>).getReader();
  const lines: Record<string, unknown>[] = [];
  let buffer = "";
  void (async () => {
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      buffer += new TextDecoder().decode(r.value);
      let nl: number;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        lines.push(JSON.parse(buffer.slice(0, nl)));
        buffer = buffer.slice(nl + 1);
      }
    }
  })();
  const line = async (pred: (l: Record<string, unknown>) => boolean, what: string) => {
    await waitUntil(() => lines.some(pred), 120_000, what, 2);
    return lines.find(pred)!;
  };
  emu.scanQr((await line((l) => "qr" in l, `${label} qr`)).qr as string, { phone });
  await line((l) => "ready" in l, `${label} ready`);
  return { child, line };
}

// ---- baseline: bare Baileys ------------------------------------------------------------------
async function startBaseline() {
  const phone = "15550009201";
  const tpPrefixes = Array.from({ length: ROUNDS }, (_, i) => `tp${i}:${BURST_N}`).join(",");
  const { child, line } = await spawnPaired(["bare-baileys.ts", "--url", emu.url, "--expect", `warm:40,${LAT_SIZES.map((n, i) => `lat${i}:${n}`).join(",")},${tpPrefixes}`], phone, "bare client");
  const dev = emu.device(phone);
  await dev.sendBurst({ count: 40, contacts: 20, prefix: "warm" });
  await line((l) => l.prefix === "warm", "warm-up");
  const pids = { emulator: process.pid, baileys: child.pid };
  return {
    /** One latency round's texts, paced; their latencies. */
    async latency(round: number): Promise<number[]> {
      await dev.sendBurst({ count: LAT_SIZES[round]!, rate: RATE, contacts: 20, prefix: `lat${round}` });
      return ((await line((l) => l.prefix === `lat${round}`, "latency run")) as unknown as Arrival).latencies;
    },
    async burst(round: number): Promise<Burst> {
      const before = await cpuNow(pids);
      const threadsBefore = await threadCpu(child.pid);
      const { startedAt } = await dev.sendBurst({ count: BURST_N, contacts: 50, prefix: `tp${round}` });
      const tp = (await line((l) => l.prefix === `tp${round}`, "throughput run")) as unknown as Arrival;
      const threads = perMessage(await threadCpu(child.pid), threadsBefore, BURST_N);
      return { rate: BURST_N / ((tp.last - startedAt) / 1000), cpu: await cpuPerMessage(pids, before, BURST_N), threads };
    },
    async stop() {
      child.kill();
      await child.exited;
    },
  };
}

/** Waits for `n` requests at the receiver, takes those of `prefix` and empties it. */
async function arrived(prefix: string, n: number) {
  await sink.waitCount(n, 120_000);
  const list = (await sink.arrivals()).map((a) => ({ ...a, parts: a.text.split(" ") })).filter((a) => a.parts[0] === prefix);
  await sink.reset();
  const run: Arrival = { latencies: list.map((a) => a.at - Number(a.parts[2])), first: list[0]!.at, last: Math.max(...list.map((a) => a.at)) };
  return { run, list };
}

/** Per chat: seq without gaps and the phone's order kept, in order of arrival. */
function orderKept(list: Awaited<ReturnType<typeof arrived>>["list"]): boolean {
  const byChat = new Map<string, { seq: number; index: number }[]>();
  for (const a of list) byChat.set(a.chat, [...(byChat.get(a.chat) ?? []), { seq: a.seq, index: Number(a.parts[1]) }]);
  for (const chat of byChat.values()) {
    for (let i = 1; i < chat.length; i++) if (chat[i]!.seq !== chat[i - 1]!.seq + 1 || chat[i]!.index <= chat[i - 1]!.index) return false;
  }
  return true;
}

/** One latency round's texts from `dev`, paced, to the receiver; their latencies. Body sizes go to `bytes`. */
async function latencyRound(dev: ReturnType<typeof emu.device>, round: number, bytes: number[]): Promise<number[]> {
  await dev.sendBurst({ count: LAT_SIZES[round]!, rate: RATE, contacts: 20, prefix: `lat${round}` });
  const { run, list } = await arrived(`lat${round}`, LAT_SIZES[round]!);
  for (const a of list) bytes.push(a.bytes);
  return run.latencies;
}

const mean = (a: number[]) => Math.round(a.reduce((n, x) => n + x, 0) / a.length);

// ---- peer-style gateway: bare Baileys and one fetch per message, no storage -------------------
async function startPeer() {
  const phone = "15550009203";
  const { child } = await spawnPaired(["peer-gateway.ts", "--url", emu.url, "--sink", sink.url], phone, "peer gateway");
  const dev = emu.device(phone);
  await dev.sendBurst({ count: 40, contacts: 20, prefix: "warm" });
  await arrived("warm", 40);
  const pids = { emulator: process.pid, peer: child.pid, receiver: sink.pid };
  const bytes: number[] = [];
  return {
    latency: (round: number) => latencyRound(dev, round, bytes),
    bytes,
    async burst(round: number): Promise<Burst & { ordered: boolean }> {
      const before = await cpuNow(pids);
      const threadsBefore = await threadCpu(child.pid);
      const { startedAt } = await dev.sendBurst({ count: BURST_N, contacts: 50, prefix: `tp${round}` });
      const tp = await arrived(`tp${round}`, BURST_N);
      const cpu = await cpuPerMessage(pids, before, BURST_N);
      const threads = perMessage(await threadCpu(child.pid), threadsBefore, BURST_N);
      return { rate: BURST_N / ((tp.run.last - startedAt) / 1000), cpu, threads, ordered: orderKept(tp.list) };
    },
    async stop() {
      child.kill();
      await child.exited;
    },
  };
}

// ---- wahook: the compiled daemon -------------------------------------------------------------------
async function startWahook() {
  const phone = "15550009202";
  const daemon = await startBinaryDaemon(emu);
  const hook = await daemon.api("POST", "/v1/webhooks", { url: sink.url, events: ["message.received"], max_concurrency: CONCURRENCY });
  if (hook.status !== 201) throw new Error(JSON.stringify(hook.body));
  await pairAccount(daemon, emu, phone);
  const dev = emu.device(phone);
  await dev.sendBurst({ count: 40, contacts: 20, prefix: "warm" });
  await arrived("warm", 40);
  const pids = { emulator: process.pid, wahook: daemon.pid, receiver: sink.pid };
  const bytes: number[] = [];
  return {
    latency: (round: number) => latencyRound(dev, round, bytes),
    bytes,
    async burst(round: number): Promise<Burst & { ordered: boolean; share: number }> {
      const before = await cpuNow(pids);
      const threadsBefore = await threadCpu(daemon.pid);
      const { startedAt } = await dev.sendBurst({ count: BURST_N, contacts: 50, prefix: `tp${round}` });
      const tp = await arrived(`tp${round}`, BURST_N);
      const cpu = await cpuPerMessage(pids, before, BURST_N);
      const threads = perMessage(await threadCpu(daemon.pid), threadsBefore, BURST_N);
      const seconds = (tp.run.last - startedAt) / 1000;
      return { rate: BURST_N / seconds, cpu, threads, ordered: orderKept(tp.list), share: (cpu.wahook! * BURST_N) / 1000 / seconds };
    },
    async stop() {
      await daemon.stop();
      daemon.clean();
    },
  };
}

const base = await startBaseline();
const peer = await startPeer();
const ours = await startWahook();
// Alternating, so that a slow stretch of a shared machine hits all sides alike.
const latencies = { base: [] as number[], peer: [] as number[], ours: [] as number[] };
for (let r = 0; r < LAT_ROUNDS; r++) {
  latencies.base.push(...(await base.latency(r)));
  latencies.peer.push(...(await peer.latency(r)));
  latencies.ours.push(...(await ours.latency(r)));
}
const rounds: { base: Burst; peer: Burst & { ordered: boolean }; ours: Burst & { ordered: boolean; share: number }; ratio: number; peerRatio: number }[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const b = await base.burst(r);
  const p = await peer.burst(r);
  const o = await ours.burst(r);
  rounds.push({ base: b, peer: p, ours: o, ratio: o.rate / b.rate, peerRatio: o.rate / p.rate });
}
await base.stop();
await peer.stop();
await ours.stop();
await sink.close();
await emu.close();

const sorted = (a: number[]) => [...a].sort((x, y) => x - y);
const [bl, ol] = [sorted(latencies.base), sorted(latencies.ours)];
for (const p of [50, 99]) {
  const added = percentile(ol, p) - percentile(bl, p);
  const limit = p === 50 ? 5 : 25;
  emit({
    bench: "live",
    metric: `live latency p${p}, phone → webhook (${LAT_N} msgs at ${RATE}/s)`,
    value: percentile(ol, p),
    unit: "ms",
    baseline: { metric: `phone → bare Baileys upsert p${p}`, value: percentile(bl, p) },
    target: `added ≤ ${limit} ms`,
    pass: added <= limit,
    extra: { added_ms: +added.toFixed(2), latency_rounds: LAT_ROUNDS },
  });
}
const median = [...rounds].sort((a, b) => a.ratio - b.ratio)[Math.floor(rounds.length / 2)]!;
const ordered = rounds.every((r) => r.ours.ordered);
emit({
  bench: "live",
  metric: `sustained live throughput, ${BURST_N} msgs over 50 chats, per-chat order (median of ${ROUNDS} round${ROUNDS === 1 ? "" : "s"})`,
  value: median.ours.rate,
  unit: "msg/s",
  baseline: { metric: "phone → bare Baileys upsert rate, same round", value: median.base.rate },
  target: "≥ 0.7 × baseline, order kept",
  pass: median.ratio >= 0.7 && ordered,
  extra: {
    per_chat_order_kept: ordered,
    max_concurrency: CONCURRENCY,
    round_ratios: rounds.map((r) => +r.ratio.toFixed(3)),
    // Baileys gets cheaper per message as the JIT warms up; the daemon's main thread gets
    // dearer as its tables grow (more index pages written per commit), by thread kind.
    round_cpu_ms_per_msg: rounds.map((r) => ({ baileys: r.base.cpu.baileys, wahook: r.ours.cpu.wahook })),
    round_threads_ms_per_msg: rounds.map((r) => ({ baileys: r.base.threads, wahook: r.ours.threads })),
    daemon_cpu_share: +median.ours.share.toFixed(2),
    cpu_ms_per_msg: { baseline: median.base.cpu, ours: median.ours.cpu },
  },
});

// Against the peer-style gateway: the same traffic to the same receiver, in the same run.
const pl = sorted(latencies.peer);
const bodyBytes = { peer: mean(peer.bytes), ours: mean(ours.bytes) };
for (const p of [50, 99]) {
  emit({
    bench: "live",
    metric: `live latency p${p}, phone → webhook (${LAT_N} msgs at ${RATE}/s), against a peer-style gateway`,
    value: percentile(ol, p),
    unit: "ms",
    baseline: { metric: `phone → peer-style gateway (Baileys + one fetch per message, no storage) → webhook p${p}`, value: percentile(pl, p) },
    target: "≤ 1.0 × baseline",
    pass: percentile(ol, p) <= percentile(pl, p),
    extra: { added_ms: +(percentile(ol, p) - percentile(pl, p)).toFixed(2), peer_added_to_bare_baileys_ms: +(percentile(pl, p) - percentile(bl, p)).toFixed(2), body_bytes: bodyBytes },
  });
}
const peerMedian = [...rounds].sort((a, b) => a.peerRatio - b.peerRatio)[Math.floor(rounds.length / 2)]!;
emit({
  bench: "live",
  metric: `sustained live throughput, ${BURST_N} msgs over 50 chats, against a peer-style gateway (median of ${ROUNDS} round${ROUNDS === 1 ? "" : "s"})`,
  value: peerMedian.ours.rate,
  unit: "msg/s",
  baseline: { metric: "phone → peer-style gateway → webhook rate, same round, nothing stored, order not kept", value: peerMedian.peer.rate },
  target: "≥ 1.0 × baseline",
  pass: peerMedian.peerRatio >= 1,
  extra: {
    per_chat_order_kept: ordered,
    peer_per_chat_order_kept: rounds.every((r) => r.peer.ordered),
    round_ratios: rounds.map((r) => +r.peerRatio.toFixed(3)),
    peer_to_bare_baileys_round_ratios: rounds.map((r) => +(r.peer.rate / r.base.rate).toFixed(3)),
    round_cpu_ms_per_msg: rounds.map((r) => ({ baileys: r.base.cpu.baileys, peer: r.peer.cpu.peer, wahook: r.ours.cpu.wahook })),
    round_threads_ms_per_msg: rounds.map((r) => ({ peer: r.peer.threads, wahook: r.ours.threads })),
    cpu_ms_per_msg: { baseline: peerMedian.peer.cpu, ours: peerMedian.ours.cpu },
    body_bytes: bodyBytes,
  },
});
process.exit(0);
