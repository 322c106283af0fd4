// The baseline of the live benchmarks, as a process of its own (as the daemon is): a bare
// Baileys client that pairs with the emulator and reports when each burst text reached
// its `messages.upsert`. Protocol on stdout, one JSON line each: {"qr"} to be scanned,
// {"ready"} once open, then per prefix {"prefix","latencies":[ms…],"first","last"} when
// `--expect` messages of that prefix have arrived.
// Usage (from live.ts): bun bench/bare-baileys.ts --url ws://… --expect lat:2000,tp:5000
import { parseArgs } from "node:util";
import { pairedClient, say } from "./pairedClient.ts";

const { values } = parseArgs({ options: { url: { type: "string" }, expect: { type: "string", default: "" } } });
const expected = new Map(
  values.expect!.split(",").filter(Boolean).map((p) => {
    const [prefix, n] = p.split(":");
    return [prefix!, Number(n)] as const;
  }),
);
const wall = () => performance.timeOrigin + performance.now();

const client = await pairedClient(values.url!);

const seen = new Map<string, { latencies: number[]; first: number; last: number }>();
client.sock.ev.on("messages.upsert", ({ messages }) => {
  const now = wall();
  for (const m of messages) {
    const text = m.message?.conversation ?? m.message?.extendedTextMessage?.text;
    if (!text) continue;
    const [prefix, , sentAt] = text.split(" ");
    const want = expected.get(prefix!);
    if (!want) continue;
    const s = seen.get(prefix!) ?? { latencies: [], first: now, last: now };
    s.latencies.push(now - Number(sentAt));
    s.last = now;
    seen.set(prefix!, s);
    if (s.latencies.length === want) say({ prefix, ...s });
  }
});
say({ ready: true });
