// Live traffic, phone → webhook, through the compiled daemon, against the same traffic
// phone → bare Baileys in the same run:
// - latency: 2,000 texts paced at 200/s over 20 chats; from the emulator's send decision
//   to the webhook request arriving (ours) or to `messages.upsert` (baseline);
// - sustained throughput: 5,000 texts at once over 50 chats, delivered with per-chat order.
// The emulator runs in this process; the daemon, the receiver and the bare client each in a
// process of their own.
// Usage: bun bench/live.ts [--latency 2000] [--rate 200] [--burst 5000]
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startEmulator } from "../test/wa-emulator/emulator.ts";
import { pairAccount, startBinaryDaemon } from "./harness.ts";
import { spawnSink } from "./sink.ts";
import { waitUntil } from "../test/support/wait.ts";
import { emit, percentile } from "./lib.ts";

const { values } = parseArgs({ options: { latency: { type: "string", default: "2000" }, rate: { type: "string", default: "200" }, burst: { type: "string", default: "5000" }, concurrency: { type: "string", default: "16" } } });
const LAT_N = Number(values.latency);
const RATE = Number(values.rate);
const BURST_N = Number(values.burst);
const CONCURRENCY = Number(values.concurrency);
const wall = () => performance.timeOrigin + performance.now();

const emu = await startEmulator({ seed: "bench-live", history: { enabled: false } });

interface Arrival {
  latencies: number[];
  first: number;
  last: number;
}

// ---- baseline: bare Baileys ------------------------------------------------------------------
async function baseline(): Promise<{ lat: Arrival; tp: Arrival; tpStarted: number }> {
  const phone = "15550009201";
  const child = Bun.spawn(["bun", join(import.meta.dir, "bare-baileys.ts"), "--url", emu.url, "--expect", `warm:40,lat:${LAT_N},tp:${BURST_N}`], {
    stdout: "pipe",
    stderr: "inherit",
  });
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
  emu.scanQr((await line((l) => "qr" in l, "bare client qr")).qr as string, { phone });
  await line((l) => "ready" in l, "bare client ready");
  const dev = emu.device(phone);
  await dev.sendBurst({ count: 40, contacts: 20, prefix: "warm" });
  await line((l) => l.prefix === "warm", "warm-up");
  await dev.sendBurst({ count: LAT_N, rate: RATE, contacts: 20, prefix: "lat" });
  const lat = (await line((l) => l.prefix === "lat", "latency run")) as unknown as Arrival;
  const { startedAt } = await dev.sendBurst({ count: BURST_N, contacts: 50, prefix: "tp" });
  const tp = (await line((l) => l.prefix === "tp", "throughput run")) as unknown as Arrival;
  child.kill();
  await child.exited;
  return { lat, tp, tpStarted: startedAt };
}

// ---- wahook: the compiled daemon and a receiver ---------------------------------------------------
/** CPU time (user + system) a process has used, in ms (Linux /proc, 100 ticks a second). */
async function cpuMs(pid: number): Promise<number> {
  const fields = (await Bun.file(`/proc/${pid}/stat`).text()).split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function wahook(): Promise<{ lat: Arrival; tp: Arrival; tpStarted: number; ordered: boolean; busy: number }> {
  const phone = "15550009202";
  const sink = await spawnSink();
  const daemon = await startBinaryDaemon(emu);
  const hook = await daemon.api("POST", "/v1/webhooks", { url: sink.url, events: ["message.received"], max_concurrency: CONCURRENCY });
  if (hook.status !== 201) throw new Error(JSON.stringify(hook.body));
  await pairAccount(daemon, emu, phone);
  const dev = emu.device(phone);
  const arrived = async (prefix: string, n: number) => {
    await sink.waitCount(n, 120_000);
    const list = (await sink.arrivals()).map((a) => ({ ...a, parts: a.text.split(" ") })).filter((a) => a.parts[0] === prefix);
    await sink.reset();
    const run: Arrival = { latencies: list.map((a) => a.at - Number(a.parts[2])), first: list[0]!.at, last: Math.max(...list.map((a) => a.at)) };
    return { run, list };
  };
  await dev.sendBurst({ count: 40, contacts: 20, prefix: "warm" });
  await arrived("warm", 40);
  await dev.sendBurst({ count: LAT_N, rate: RATE, contacts: 20, prefix: "lat" });
  const latRun = await arrived("lat", LAT_N);
  const lat = latRun.run;
  const cpu0 = await cpuMs(daemon.pid);
  const { startedAt } = await dev.sendBurst({ count: BURST_N, contacts: 50, prefix: "tp" });
  const tp = await arrived("tp", BURST_N);
  const busy = ((await cpuMs(daemon.pid)) - cpu0) / (tp.run.last - startedAt);
  // Per chat: seq without gaps and the phone's order kept.
  let ordered = true;
  const byChat = new Map<string, { seq: number; index: number }[]>();
  for (const a of tp.list) byChat.set(a.chat, [...(byChat.get(a.chat) ?? []), { seq: a.seq, index: Number(a.parts[1]) }]);
  for (const list of byChat.values()) {
    for (let i = 1; i < list.length; i++) if (list[i]!.seq !== list[i - 1]!.seq + 1 || list[i]!.index <= list[i - 1]!.index) ordered = false;
  }
  await daemon.stop();
  daemon.clean();
  await sink.close();
  return { lat, tp: tp.run, tpStarted: startedAt, ordered, busy };
}

const base = await baseline();
const ours = await wahook();
await emu.close();

const sorted = (a: number[]) => [...a].sort((x, y) => x - y);
const [bl, ol] = [sorted(base.lat.latencies), sorted(ours.lat.latencies)];
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
    extra: { added_ms: +added.toFixed(2) },
  });
}
const baseRate = BURST_N / ((base.tp.last - base.tpStarted) / 1000);
const ourRate = BURST_N / ((ours.tp.last - ours.tpStarted) / 1000);
emit({
  bench: "live",
  metric: `sustained live throughput, ${BURST_N} msgs over 50 chats, per-chat order`,
  value: ourRate,
  unit: "msg/s",
  baseline: { metric: "phone → bare Baileys upsert rate", value: baseRate },
  target: "≥ 0.7 × baseline, order kept",
  pass: ourRate >= 0.7 * baseRate && ours.ordered,
  extra: { per_chat_order_kept: ours.ordered, max_concurrency: CONCURRENCY, daemon_cpu_share: +ours.busy.toFixed(2) },
});
process.exit(0);
