// Backups in an S3-compatible store, against a local one (s3rver on 127.0.0.1): the
// compiled daemon uploads what it makes, lists and deletes in the bucket too, keeps the
// last WAHOOK_BACKUP_KEEP scheduled backups there and locally, keeps an archive whose
// upload failed, and never logs the secret key; `wahook restore <key>` restores from it.
import { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { binaryInEmptyDir, freePort, startBinary, type RunningBinary } from "../support/binary.ts";
import { startLocalS3, S3_SECRET, type LocalS3 } from "../support/s3.ts";
import { waitUntil } from "../support/wait.ts";

const KEY = "s3-test-admin-key-0123456789abcdef";

let s3: LocalS3;
let dir: string;
let exe: string;
const daemons: RunningBinary[] = [];
beforeAll(async () => {
  s3 = await startLocalS3();
  ({ dir, exe } = await binaryInEmptyDir());
});
afterAll(async () => {
  for (const d of daemons) {
    d.proc.kill("SIGKILL");
    await d.proc.exited;
  }
  await s3.close();
  rmSync(dir, { recursive: true, force: true });
});

async function daemon(name: string, env: Record<string, string> = {}): Promise<RunningBinary & { api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> }> {
  const d = await startBinary(exe, dir, { WAHOOK_DATA_DIR: join(dir, name), WAHOOK_BACKUP_DIR: join(dir, `${name}-backups`), WAHOOK_API_KEY: KEY, WAHOOK_ALLOW_TARGETS: "loopback", WAHOOK_LOG_LEVEL: "info", ...s3.env, ...env });
  daemons.push(d);
  return Object.assign(d, {
    async api(method: string, path: string, body?: unknown) {
      const res = await fetch(d.url + path, { method, headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null };
    },
  });
}

async function cli(args: string[], env: Record<string, string>) {
  const proc = Bun.spawn([exe, ...args], { cwd: dir, env: { PATH: process.env.PATH ?? "", ...env }, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { stdout, stderr, code };
}

async function stopAndReadLog(d: RunningBinary): Promise<string> {
  d.proc.kill("SIGTERM");
  await d.proc.exited;
  return (await new Response(d.proc.stdout).text()) + (await d.stderr());
}

describe("a daemon with WAHOOK_BACKUP_S3_* set", () => {
  test("POST /v1/backups uploads; the listing shows the key; `wahook restore <key>` restores from the bucket; DELETE removes it there too", async () => {
    const d = await daemon("one");
    await d.api("POST", "/v1/webhooks", { url: "http://127.0.0.1:9/hook", events: ["message.received"], description: "made before the backup" });
    const { name } = (await d.api("POST", "/v1/backups")).body;
    await waitUntil(async () => (await d.api("GET", "/v1/backups")).body.running === null, 15_000, "backup done");
    const listed = (await d.api("GET", "/v1/backups")).body;
    expect(listed.last_failure).toBeNull();
    expect(listed.data).toEqual([expect.objectContaining({ name, local: true, s3_key: `wahook/${name}` })]);
    expect(await s3.keys()).toEqual([`wahook/${name}`]);

    // Restored on "another machine": only the key and the S3 settings, no local file.
    const target = join(dir, "restored-from-s3");
    const restore = await cli(["restore", `wahook/${name}`, "--data-dir", target], s3.env);
    expect({ code: restore.code, stderr: restore.stderr }).toEqual({ code: 0, stderr: "" });
    expect(restore.stdout).toContain(`restored s3://${s3.bucket}/wahook/${name}`);
    const sqlite = new Database(join(target, "wahook.db"), { readonly: true });
    expect(sqlite.query("SELECT description FROM webhooks").all()).toEqual([{ description: "made before the backup" }]);
    sqlite.close();

    expect((await d.api("DELETE", `/v1/backups/${name}`)).status).toBe(204);
    expect(await s3.keys()).toEqual([]);
    expect((await d.api("GET", "/v1/backups")).body.data).toEqual([]);
    const log = await stopAndReadLog(d);
    expect(log).toContain("backup uploaded");
    expect(log).not.toContain(S3_SECRET);
  }, 30_000);

  test("a restore of a key the bucket does not have is refused, naming it", async () => {
    const res = await cli(["restore", "wahook-2020-01-01T00-00-00-000Z.tar.gz", "--data-dir", join(dir, "never")], s3.env);
    expect(res.code).toBe(1);
    expect(res.stderr).toBe(`wahook: restore refused: no file wahook-2020-01-01T00-00-00-000Z.tar.gz here and no s3://${s3.bucket}/wahook/wahook-2020-01-01T00-00-00-000Z.tar.gz in the bucket\n`);
  });

  test("the schedule keeps the last WAHOOK_BACKUP_KEEP scheduled backups, locally and in the bucket; a manual one is not counted", async () => {
    const d = await daemon("scheduled", { WAHOOK_BACKUP_CRON: "* * * * * *", WAHOOK_BACKUP_KEEP: "2" });
    // The schedule may be making one right now (409): the manual one goes right after.
    let manual = "";
    await waitUntil(async () => (manual = (await d.api("POST", "/v1/backups")).body.name ?? "") !== "", 5_000, "manual backup started", 20);
    const t0 = Date.now();
    const auto = (names: string[]) => names.filter((n) => n.includes("wahook-auto-"));
    // At least four scheduled runs, then the pruning after the last of them.
    await waitUntil(
      async () => {
        const list = (await d.api("GET", "/v1/backups")).body;
        const autos = list.data.filter((b: { auto: boolean }) => b.auto);
        return list.running === null && autos.length === 2 && Date.parse(autos[1].created_at) > t0 + 2_000 && auto(await s3.keys()).length === 2;
      },
      15_000,
      "four scheduled backups, two kept",
      100,
    );
    await stopAndReadLog(d);
    const local = readdirSync(join(dir, "scheduled-backups")).filter((n) => n.endsWith(".tar.gz"));
    expect(auto(local)).toHaveLength(2);
    expect(local).toContain(manual);
    expect(await s3.keys()).toContain(`wahook/${manual}`);
    expect(auto(await s3.keys()).map((k) => k.slice("wahook/".length))).toEqual(auto(local).sort());
  }, 30_000);

  test("a store that does not answer: the archive is kept locally, last_failure and s3_error say why, a download asks with 502", async () => {
    const d = await daemon("no-bucket", { WAHOOK_BACKUP_S3_ENDPOINT: `http://127.0.0.1:${await freePort()}` });
    const { name } = (await d.api("POST", "/v1/backups")).body;
    await waitUntil(async () => (await d.api("GET", "/v1/backups")).body.last_failure !== null, 15_000, "upload failure reported");
    const list = (await d.api("GET", "/v1/backups")).body;
    expect(list.last_failure).toMatchObject({ name, error: expect.stringContaining("upload to S3 failed: ConnectionRefused") });
    // The bucket cannot be listed either: the local archive is listed all the same, and why the bucket is not.
    expect(list.s3_error).toContain("ConnectionRefused");
    expect(list.data).toEqual([expect.objectContaining({ name, local: true, s3_key: null })]);
    expect(readdirSync(join(dir, "no-bucket-backups"))).toEqual([name]);
    // Downloading an archive the bucket cannot be asked about: 502 with a catalogue code.
    const missing = await d.api("GET", "/v1/backups/wahook-2020-01-01T00-00-00-000Z.tar.gz");
    expect([missing.status, missing.body.error.code]).toEqual([502, "backup_store_unavailable"]);
    const log = await stopAndReadLog(d);
    expect(log).toContain("ConnectionRefused");
    expect(log).not.toContain(S3_SECRET);
  }, 30_000);
});
