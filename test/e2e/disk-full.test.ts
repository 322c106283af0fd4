// A full disk loses nothing. The compiled binary's data folder sits on a small tmpfs; a
// ballast file leaves it little room; WhatsApp traffic fills the rest until writes fail.
// Meanwhile the device confirms nothing it could not store (WhatsApp keeps it), /health
// says `degraded` with the reason, API writes answer 507 `storage_full` and reads still
// work. The ballast goes, and with no restart every message is delivered, once, in order,
// and /health is ok again. Needs a tmpfs mount (root, as CI runs): skipped otherwise.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { rmSync, statfsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../support/app.ts";
import { payload, startRig, uniqueDeliveries, type Rig } from "../support/e2e.ts";
import { waitUntil } from "../support/wait.ts";

const PHONE = "15550031001";
/** Room left beside the ballast: a few hundred messages' worth. */
const ROOM_BYTES = 1536 * 1024;
const BURST = 300;

function mountTmpfs(dir: string): string | null {
  if (process.platform !== "linux") return "not Linux";
  const res = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", "size=32m,mode=0700", "tmpfs", dir], { stderr: "pipe" });
  return res.exitCode === 0 ? null : `cannot mount a tmpfs here (${res.stderr.toString().trim() || `exit ${res.exitCode}`}); run as root`;
}

const mountPoint = tempDir("wahook-full-");
const whyNot = mountTmpfs(mountPoint);
if (whyNot) console.warn(`disk-full test skipped: ${whyNot}`);

let rig: Rig;
const ballast = join(mountPoint, "ballast");
const free = () => {
  const s = statfsSync(mountPoint);
  return s.bavail * s.bsize;
};
beforeAll(async () => {
  if (whyNot) return;
  rig = await startRig({ env: { WAHOOK_DATA_DIR: join(mountPoint, "data"), WAHOOK_LOG_LEVEL: "info" } });
  await rig.api("POST", "/v1/webhooks", { url: rig.sink.url("/wa"), events: ["message.received"] });
  await rig.pair(PHONE);
}, 60_000);
afterAll(async () => {
  if (!whyNot) await rig?.close();
  Bun.spawnSync(["umount", "-l", mountPoint]);
  rmSync(mountPoint, { recursive: true, force: true });
});

const health = async () => {
  const res = await fetch(`${rig.daemon.url}/health`);
  return { status: res.status, body: (await res.json()) as { status: string; database: string; reason?: string } };
};
const confirmations = async () => (await rig.admin("GET", `/devices/${PHONE}/confirmations`)) as { confirmed: { id: string; kind: string }[]; unconfirmed: { id: string; kind: string }[] };

test.skipIf(whyNot !== null)("traffic until writes fail, then space freed: receipts held meanwhile, /health degraded then ok, zero messages lost", async () => {
  writeFileSync(ballast, Buffer.alloc(Math.max(0, free() - ROOM_BYTES)));
  let sent = 0;
  // Bursts until the daemon reports the disk full (bounded: the room is a few hundred messages).
  for (let round = 0; round < 12 && (await health()).status === 200; round++) {
    await rig.admin("POST", `/devices/${PHONE}/burst`, { count: BURST, contacts: 10, rate: 1000, prefix: `f${round}` });
    sent += BURST;
    await waitUntil(async () => (await health()).status === 503 || uniqueDeliveries(rig.sink.requests).unique.length >= sent, 15_000, `round ${round} stored or refused`, 50);
  }
  const full = await health();
  expect(full).toEqual({ status: 503, body: expect.objectContaining({ status: "degraded", database: "full", reason: expect.stringContaining("full") }) });

  // More traffic while full: held as well.
  await rig.admin("POST", `/devices/${PHONE}/burst`, { count: BURST, contacts: 10, rate: 1000, prefix: "while-full" });
  sent += BURST;
  const unconfirmed = async () => (await confirmations()).unconfirmed.filter((c) => c.kind === "message").length;
  await waitUntil(async () => (await unconfirmed()) >= BURST / 2, 10_000, "receipts held", 20);
  const held = await unconfirmed();
  // Nothing of it was stored, so nothing of it went out.
  expect(rig.sink.requests.filter((r) => String(payload(r).message?.text).startsWith("while-full"))).toEqual([]);
  const write = await rig.api("POST", "/v1/webhooks", { url: rig.sink.url("/other"), events: ["message.received"] });
  expect([write.status, write.body.error.code]).toEqual([507, "storage_full"]);
  expect((await rig.api("GET", "/v1/webhooks")).status).toBe(200);
  expect((await health()).status).toBe(503);
  const metrics = await (await fetch(`${rig.daemon.url}/metrics`, { headers: { authorization: `Bearer ${rig.key}` } })).text();
  expect(metrics).toContain("\nwahook_storage_full 1\n");

  // Space comes back; nothing is restarted.
  rmSync(ballast);
  await waitUntil(async () => (await health()).status === 200, 15_000, "/health ok again", 50);
  const texts = () => new Set(uniqueDeliveries(rig.sink.requests).unique.map((r) => payload(r).message?.text as string));
  await waitUntil(() => texts().size >= sent, 60_000, "every message delivered").catch(() => {});

  const { unique, problems } = uniqueDeliveries(rig.sink.requests);
  expect(problems).toEqual([]);
  const delivered = new Set(unique.map((r) => (payload(r).message.text as string).split(" ").slice(0, 2).join(" ")));
  const prefixes = [...new Set([...delivered].map((t) => t.split(" ")[0]!))];
  const missing: string[] = [];
  for (const prefix of prefixes) for (let i = 0; i < BURST; i++) if (!delivered.has(`${prefix} ${i}`)) missing.push(`${prefix} ${i}`);
  console.log(JSON.stringify({ sent, delivered: delivered.size, held_while_full: held, lost: missing.length }));
  expect({ prefixes: prefixes.length, missing }).toEqual({ prefixes: sent / BURST, missing: [] });
  // WhatsApp got a receipt for every message in the end, and each was stored before it did.
  await waitUntil(async () => (await confirmations()).unconfirmed.filter((c) => c.kind === "message").length === 0, 15_000, "all confirmed");
}, 120_000);
