// Soak: mixed WhatsApp traffic for a long time while the daemon is killed with -9 at random
// moments (every 20-90 s by default) and restarted a second later, as a supervisor would.
// The compiled binary, the standalone emulator and a sink, over HTTP and signals only. At
// the end: how many messages were sent, delivered, lost (must be 0) and sent twice (only
// with the same webhook-id: a receiver can drop those).
//
// Usage: bun bench/soak.ts [--minutes 30] [--kill-min-s 20] [--kill-max-s 90] [--rate 20]
// Not part of `bun run bench` (it runs for half an hour); prints JSON lines.
import { parseArgs } from "node:util";
import { payload, startRig, uniqueDeliveries } from "../test/support/e2e.ts";
import { waitUntil } from "../test/support/wait.ts";

const { values } = parseArgs({
  options: {
    minutes: { type: "string", default: "30" },
    "kill-min-s": { type: "string", default: "20" },
    "kill-max-s": { type: "string", default: "90" },
    rate: { type: "string", default: "20" },
  },
});
const DURATION_MS = Number(values.minutes) * 60_000;
const KILL_MIN_MS = Number(values["kill-min-s"]) * 1000;
const KILL_MAX_MS = Number(values["kill-max-s"]) * 1000;
const INTERVAL_MS = 1000 / Number(values.rate);

const PHONE = "15550011001";
const CONTACTS = Array.from({ length: 40 }, (_, i) => `1555701${String(i).padStart(4, "0")}`);
const JPEG = Buffer.from("ffd8ffe000104a46494600010100000100010000ffd9", "hex").toString("base64");

const rig = await startRig({ env: { WAHOOK_LOG_LEVEL: "error" } });
await rig.api("POST", "/v1/webhooks", { url: rig.sink.url("/soak"), events: ["message.received", "message.sent"] });
await rig.pair(PHONE);
const group = (await rig.admin("POST", "/groups", { subject: "Soak team", creator: CONTACTS[0], participants: [PHONE, ...CONTACTS.slice(0, 5)] })).id as string;

const pick = <T>(list: T[]) => list[Math.floor(Math.random() * list.length)]!;
const kinds: Record<string, number> = {};
let sent = 0;
let kills = 0;

/** One message of a random kind, marked "soak <n>" in its text or caption. */
async function sendOne(n: number): Promise<void> {
  const marker = `soak ${n}`;
  const r = Math.random();
  const from = pick(CONTACTS);
  let body: Record<string, unknown>;
  let kind: string;
  if (r < 0.45) [kind, body] = ["text", { kind: "text", from, text: marker }];
  else if (r < 0.6) [kind, body] = ["group", { kind: "text", from: pick(CONTACTS.slice(0, 5)), group, text: marker }];
  else if (r < 0.72) [kind, body] = ["sent", { kind: "text", fromMe: true, to: from, text: marker }];
  else if (r < 0.84) [kind, body] = ["image", { kind: "image", from, dataBase64: JPEG, caption: marker }];
  else if (r < 0.92) [kind, body] = ["retried", { kind: "text", from, text: marker, undecryptable: "retry" }];
  else [kind, body] = ["quoted", { kind: "text", from, text: marker, quote: { id: "SOAKQUOTE00001", text: "earlier" } }];
  await rig.admin("POST", `/devices/${PHONE}/messages`, body);
  kinds[kind] = (kinds[kind] ?? 0) + 1;
  sent++;
}

const started = Date.now();
let running = true;
const traffic = (async () => {
  for (let n = 0; running; n++) {
    const due = started + n * INTERVAL_MS;
    if (due > Date.now()) await Bun.sleep(due - Date.now());
    await sendOne(n).catch((e) => console.error(JSON.stringify({ send_error: String(e) })));
  }
})();

while (Date.now() - started < DURATION_MS) {
  const wait = KILL_MIN_MS + Math.random() * (KILL_MAX_MS - KILL_MIN_MS);
  await Bun.sleep(Math.min(wait, Math.max(0, DURATION_MS - (Date.now() - started))));
  if (Date.now() - started >= DURATION_MS) break;
  await rig.kill("SIGKILL");
  kills++;
  await Bun.sleep(1_000);
  await rig.start();
  console.log(JSON.stringify({ at_s: Math.round((Date.now() - started) / 1000), kills, sent, received_requests: rig.sink.requests.length }));
}
running = false;
await traffic;

const markerOf = (b: any): string | undefined => (b.message?.text ?? b.message?.caption ?? undefined)?.match(/^soak \d+$/)?.[0];
await waitUntil(() => new Set(rig.sink.requests.map((r) => markerOf(payload(r))).filter(Boolean)).size >= sent, 120_000, "all delivered").catch(() => {});
const { unique, problems } = uniqueDeliveries(rig.sink.requests);
const delivered = new Set(unique.map((r) => markerOf(payload(r))).filter(Boolean));
const placeholders = unique.filter((r) => payload(r).message?.type === "ciphertext").length;
console.log(
  JSON.stringify({
    bench: "soak",
    minutes: Number(values.minutes),
    kills,
    sent,
    kinds,
    delivered: delivered.size,
    lost: sent - delivered.size,
    requests: rig.sink.requests.length,
    duplicates_same_webhook_id: rig.sink.requests.length - unique.length,
    placeholders_delivered: placeholders,
    problems,
  }),
);
await rig.close();
