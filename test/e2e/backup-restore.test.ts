// A backup taken under live traffic brings a daemon back on another machine: the compiled
// binary, the standalone emulator and a sink, over HTTP, signals and the command line only.
// Mid-burst, with a queue built up behind a slow receiver, POST /v1/backups; the first
// daemon dies (kill -9); `wahook restore` puts the archive into a fresh folder; a daemon
// started there on another port opens the account without pairing and delivers every
// event that was queued in the snapshot. A damaged or cut archive is refused, and so is a
// folder in use.
import { Database } from "bun:sqlite";
import { afterAll, beforeAll, expect, test } from "bun:test";
import { copyFileSync, existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { embeddedTags } from "../../src/store/migrations.ts";
import { freePort, startBinary, type RunningBinary } from "../support/binary.ts";
import { payload, startRig, type Rig } from "../support/e2e.ts";
import { waitUntil } from "../support/wait.ts";

const PHONE = "15550021001";
const BURST = 1200;

let rig: Rig;
let restored: RunningBinary | null = null;
beforeAll(async () => {
  // Relative to the daemon's working folder (the rig's temp folder).
  rig = await startRig({ env: { WAHOOK_BACKUP_DIR: "backups" } });
}, 30_000);
afterAll(async () => {
  restored?.proc.kill("SIGKILL");
  await restored?.proc.exited;
  await rig.close();
});

const exe = () => join(rig.daemon.dir, "wahook");
async function cli(args: string[], env: Record<string, string> = {}) {
  const proc = Bun.spawn([exe(), ...args], { cwd: rig.daemon.dir, env: { PATH: process.env.PATH ?? "", ...env }, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { stdout, stderr, code };
}
const sha256 = (bytes: Uint8Array) => new Bun.CryptoHasher("sha256").update(bytes).digest("hex");

test("backup mid-burst, kill -9, restore elsewhere: the account opens without pairing and the snapshot's queue is delivered", async () => {
  // A receiver slower than the burst: a queue builds up behind it.
  rig.sink.respondWith({ status: 200, delayMs: 25 });
  await rig.api("POST", "/v1/webhooks", { url: rig.sink.url("/wa"), events: ["message.received"], max_concurrency: 1 });
  const accountId = await rig.pair(PHONE);
  await rig.admin("POST", `/devices/${PHONE}/burst`, { count: BURST, contacts: 12, rate: 200, prefix: "b" });
  await rig.sink.waitFor(40, 20_000);

  const started = await rig.api("POST", "/v1/backups");
  expect(started.status).toBe(202);
  const name = started.body.name as string;
  await waitUntil(async () => (await rig.api("GET", "/v1/backups")).body.running === null, 30_000, "backup written");
  const listed = (await rig.api("GET", "/v1/backups")).body;
  expect(listed.last_failure).toBeNull();
  const backup = listed.data.find((b: { name: string }) => b.name === name);
  expect(backup.manifest.accounts).toEqual([expect.objectContaining({ id: accountId, phone: PHONE, paired: true })]);
  expect(backup.manifest.schema_migration).toBe(embeddedTags().at(-1)!);
  const queuedInSnapshot = backup.manifest.counts.queue.pending + backup.manifest.counts.queue.in_flight;
  expect(queuedInSnapshot).toBeGreaterThan(0);

  // The archive on disk is owner-only, and the API hands out exactly its bytes.
  const archive = join(rig.daemon.dir, "backups", name);
  expect((statSync(archive).mode & 0o777).toString(8)).toBe("600");
  const download = await fetch(`${rig.daemon.url}/v1/backups/${name}`, { headers: { authorization: `Bearer ${rig.key}` } });
  expect(sha256(new Uint8Array(await download.arrayBuffer()))).toBe(sha256(readFileSync(archive)));

  // The machine dies.
  await rig.kill("SIGKILL");

  const target = join(rig.daemon.dir, "restored");
  const restore = await cli(["restore", archive, "--data-dir", target]);
  expect({ code: restore.code, stderr: restore.stderr }).toEqual({ code: 0, stderr: "" });
  expect(restore.stdout).toContain("paired, reconnects without pairing");
  expect((statSync(target).mode & 0o777).toString(8)).toBe("700");

  // What the snapshot owed the receiver, read from the restored folder before it starts.
  const sqlite = new Database(join(target, "wahook.db"), { readonly: true });
  const owed = sqlite
    .query<{ message_id: string }, []>("SELECT m.message_id FROM outbox o JOIN messages m ON m.rowid = o.message_rowid WHERE o.status IN ('pending', 'in_flight')")
    .all()
    .map((r) => r.message_id);
  sqlite.close();
  expect(owed.length).toBe(queuedInSnapshot);

  const from = rig.sink.requests.length;
  rig.sink.respondWith({ status: 200 });
  restored = await startBinary(exe(), rig.daemon.dir, {
    WAHOOK_DATA_DIR: target,
    WAHOOK_PORT: String(await freePort()),
    WAHOOK_API_KEY: rig.key,
    WAHOOK_ALLOW_TARGETS: "loopback",
    WAHOOK_WA_URL: rig.emu.url,
    WAHOOK_WA_MEDIA_URL: rig.emu.mediaUrl,
    WAHOOK_WA_ROOT_KEY: rig.emu.rootPublicKeyHex,
  });
  const api = (path: string) => fetch(`${restored!.url}${path}`, { headers: { authorization: `Bearer ${rig.key}` } }).then((r) => r.json() as Promise<any>);
  await waitUntil(async () => (await api(`/v1/accounts/${accountId}`)).state === "open", 20_000, "restored account open without a scan");

  const deliveredIds = () => new Set(rig.sink.requests.slice(from).map((r) => payload(r).message?.id as string));
  await waitUntil(() => owed.every((id) => deliveredIds().has(id)), 30_000, "the snapshot's queue delivered").catch(() => {});
  expect(owed.filter((id) => !deliveredIds().has(id))).toEqual([]);
  console.log(JSON.stringify({ burst: BURST, queued_in_snapshot: owed.length, archive_bytes: statSync(archive).size }));

  // A folder a daemon uses is never restored over, not even with --force.
  const busy = await cli(["restore", archive, "--data-dir", target, "--force"]);
  expect(busy.code).toBe(1);
  expect(busy.stderr).toContain("is in use by process");
}, 120_000);

test("a damaged or cut archive is refused with a clear error, and nothing is restored", async () => {
  // `wahook backup` beside the restored daemon, which keeps running.
  const made = await cli(["backup"], { WAHOOK_DATA_DIR: join(rig.daemon.dir, "restored"), WAHOOK_BACKUP_DIR: "backups" });
  expect(made.code).toBe(0);
  const archive = join(rig.daemon.dir, "backups", made.stdout.match(/wrote \S+\/(wahook-\S+\.tar\.gz)/)![1]!);
  const bytes = readFileSync(archive);
  const flipped = Buffer.from(bytes);
  flipped[Math.floor(flipped.length / 2)]! ^= 0xff;
  // Repacked with one byte of the database changed: the compression is intact, the
  // manifest's checksum for wahook.db is what catches it.
  const tar = Buffer.from(Bun.gunzipSync(bytes));
  const manifestSize = parseInt(tar.toString("ascii", 124, 135), 8);
  const dbData = 512 + Math.ceil(manifestSize / 512) * 512 + 512;
  tar[dbData + 4000]! ^= 0x01;
  const cases: [string, Buffer][] = [
    ["one byte flipped", flipped],
    ["cut in half", bytes.subarray(0, Math.floor(bytes.length / 2))],
    ["a database byte changed, compression intact", Buffer.from(Bun.gzipSync(tar))],
  ];
  for (const [what, content] of cases) {
    const file = join(rig.daemon.dir, `bad-${what.replace(/ /g, "-")}.tar.gz`);
    writeFileSync(file, content);
    const target = join(rig.daemon.dir, `never-${what.replace(/ /g, "-")}`);
    const res = await cli(["restore", file, "--data-dir", target]);
    expect({ what, code: res.code, stdout: res.stdout }).toEqual({ what, code: 1, stdout: "" });
    expect(res.stderr).toMatch(/^wahook: restore refused: .*damaged or not a wahook backup: .*; nothing was restored\n$/);
    expect(existsSync(target)).toBe(false);
    console.log(`${what}: ${res.stderr.trim()}`);
  }
  // The intact copy restores.
  copyFileSync(archive, join(rig.daemon.dir, "good.tar.gz"));
  expect((await cli(["restore", "good.tar.gz", "--data-dir", join(rig.daemon.dir, "good")])).code).toBe(0);
}, 60_000);
