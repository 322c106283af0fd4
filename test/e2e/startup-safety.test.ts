// The compiled binary's start-up, seen from outside: what it leaves on disk is owner-only
// (also after an upgrade from a folder an older version made 0644), it advertises the port
// it really listens on, a failed start says why in one line with exit code 2, and the
// WAHOOK_API_KEY key never comes back silently.
import { Database } from "bun:sqlite";
import { afterAll, expect, test } from "bun:test";
import type { Subprocess } from "bun";
import { chmodSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { binaryInEmptyDir, freePort, startBinary } from "../support/binary.ts";

const KEY = "startup-admin-key-0123456789abcdef";
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

async function fresh() {
  const made = await binaryInEmptyDir();
  dirs.push(made.dir);
  return { ...made, data: join(made.dir, "data") };
}

function modes(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (path: string, name: string) => {
    out[name] = (statSync(path).mode & 0o777).toString(8);
    if (statSync(path).isDirectory()) for (const child of readdirSync(path)) walk(join(path, child), `${name}/${child}`);
  };
  walk(dir, ".");
  return out;
}

async function stop(proc: Subprocess) {
  proc.kill("SIGTERM");
  return proc.exited;
}

/** Runs the binary to its exit; returns the code and what it printed. */
async function runToExit(exe: string, cwd: string, env: Record<string, string>) {
  const proc = Bun.spawn([exe], { cwd, env: { PATH: process.env.PATH ?? "", WAHOOK_HOST: "127.0.0.1", WAHOOK_LOG_LEVEL: "warn", ...env }, stdout: "pipe", stderr: "pipe" });
  const code = await proc.exited;
  return { code, stderr: await new Response(proc.stderr).text(), stdout: await new Response(proc.stdout).text() };
}

test("every file and folder the first start makes is owner-only", async () => {
  const { dir, exe, data } = await fresh();
  const run = await startBinary(exe, dir, { WAHOOK_DATA_DIR: data, WAHOOK_API_KEY: KEY });
  // While running: the database, its WAL and shared-memory files exist.
  const seen = modes(data);
  expect(Object.keys(seen)).toEqual(expect.arrayContaining(["./wahook.db", "./wahook.db-wal", "./wahook.db-shm"]));
  for (const [name, mode] of Object.entries(seen)) expect(`${name} ${mode}`).toBe(`${name} ${statSync(join(data, name)).isDirectory() ? "700" : "600"}`);
  expect(await stop(run.proc)).toBe(0);
});

test("an upgrade from a folder with 0644 files tightens them at start, and says so", async () => {
  const { dir, exe, data } = await fresh();
  const first = await startBinary(exe, dir, { WAHOOK_DATA_DIR: data, WAHOOK_API_KEY: KEY });
  await stop(first.proc);
  // What older versions left behind: a world-readable database and media file.
  writeFileSync(join(data, "media", "med_old"), "jpeg bytes");
  for (const f of ["wahook.db", "media/med_old"]) chmodSync(join(data, f), 0o644);
  chmodSync(join(data, "media"), 0o755);
  chmodSync(data, 0o755);

  const second = await startBinary(exe, dir, { WAHOOK_DATA_DIR: data, WAHOOK_API_KEY: KEY });
  for (const [name, mode] of Object.entries(modes(data))) expect(`${name} ${mode}`).toBe(`${name} ${statSync(join(data, name)).isDirectory() ? "700" : "600"}`);
  await stop(second.proc);
  const log = await new Response(second.proc.stdout).text();
  expect(log).toContain("data folder permissions tightened to owner-only");
});

test("with WAHOOK_PORT=0 the links and the start-up line name the port really listened on", async () => {
  const { dir, exe, data } = await fresh();
  const proc = Bun.spawn([exe], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? "", WAHOOK_HOST: "127.0.0.1", WAHOOK_PORT: "0", WAHOOK_DATA_DIR: data, WAHOOK_API_KEY: KEY },
    stdout: "pipe",
    stderr: "pipe",
  });
  const reader = proc.stdout.getReader();
  let text = "";
  while (!text.includes('"msg":"wahook started"')) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  proc.kill("SIGTERM");
  await proc.exited;
  const started = JSON.parse(text.split("\n").find((l) => l.includes('"msg":"wahook started"'))!);
  const port = new URL(started.url).port;
  expect(Number(port)).toBeGreaterThan(0);
  expect(started.swagger).toBe(`http://localhost:${port}/swagger`);
});

test("a port in use, a database from a newer version, a data folder that is a file: one line, exit 2, no stack", async () => {
  const { dir, exe, data } = await fresh();
  const taken = Bun.serve({ hostname: "127.0.0.1", port: await freePort(), fetch: () => new Response() });
  try {
    const busy = await runToExit(exe, dir, { WAHOOK_DATA_DIR: data, WAHOOK_PORT: String(taken.port), WAHOOK_API_KEY: KEY });
    expect(busy.code).toBe(2);
    expect(busy.stderr.trim()).toBe(`wahook: cannot start: port ${taken.port} on 127.0.0.1 is already in use by another program (set WAHOOK_PORT or WAHOOK_HOST)`);
  } finally {
    taken.stop(true);
  }

  // A database migrated by a newer wahook than this one.
  const sqlite = new Database(join(data, "wahook.db"));
  sqlite.exec("INSERT INTO wahook_migrations (tag, hash, applied_at) VALUES ('9999_from_the_future', 'x', 0)");
  sqlite.close();
  const newer = await runToExit(exe, dir, { WAHOOK_DATA_DIR: data, WAHOOK_PORT: String(await freePort()), WAHOOK_API_KEY: KEY });
  expect(newer.code).toBe(2);
  expect(newer.stderr).toContain("was migrated by a newer wahook (9999_from_the_future)");

  const file = join(dir, "not-a-folder");
  writeFileSync(file, "x");
  const notDir = await runToExit(exe, dir, { WAHOOK_DATA_DIR: file, WAHOOK_PORT: String(await freePort()), WAHOOK_API_KEY: KEY });
  expect(notDir.code).toBe(2);
  expect(notDir.stderr).toContain(`the data folder ${file} cannot be used`);

  for (const failed of [newer, notDir]) {
    expect(failed.stderr.trim().split("\n")).toHaveLength(1);
    expect(failed.stderr + failed.stdout).not.toMatch(/^\s+at |\.ts:\d+/m);
  }
}, 30_000);

test("the WAHOOK_API_KEY key: the API cannot revoke it; one revoked by an older version works again, with a warning", async () => {
  const { dir, exe, data } = await fresh();
  const env = { WAHOOK_DATA_DIR: data, WAHOOK_API_KEY: KEY, WAHOOK_LOG_LEVEL: "warn" };
  const auth = { authorization: `Bearer ${KEY}` };
  const first = await startBinary(exe, dir, env);
  const keys = (await (await fetch(`${first.url}/v1/api-keys`, { headers: auth })).json()) as { data: { id: string; source: string }[] };
  const envKey = keys.data.find((k) => k.source === "env")!;
  // A second admin key, so "the last admin key" is not why the revoke is refused.
  await fetch(`${first.url}/v1/api-keys`, { method: "POST", headers: { ...auth, "content-type": "application/json" }, body: '{"name":"other","scope":"admin"}' });
  const refused = await fetch(`${first.url}/v1/api-keys/${envKey.id}`, { method: "DELETE", headers: auth });
  expect(refused.status).toBe(409);
  expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("env_key");
  await stop(first.proc);

  // What an older version's DELETE left: the env key's row revoked.
  const sqlite = new Database(join(data, "wahook.db"));
  sqlite.exec(`UPDATE api_keys SET revoked_at = 1 WHERE id = '${envKey.id}'`);
  sqlite.close();
  const second = await startBinary(exe, dir, env);
  expect((await fetch(`${second.url}/v1/webhooks`, { headers: auth })).status).toBe(200);
  await stop(second.proc);
  expect(await new Response(second.proc.stdout).text()).toContain("WAHOOK_API_KEY had been revoked through the API; it works again");
}, 30_000);
