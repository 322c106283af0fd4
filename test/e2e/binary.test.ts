// The compiled binary, alone in an empty folder: health, a webhook through the API,
// SIGTERM → exit 0 within 5 s, start again → the webhook is still there.
import { afterAll, expect, test } from "bun:test";
import { rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { binaryInEmptyDir, startBinary } from "../support/binary.ts";

const KEY = "e2e-admin-key-0123456789abcdefgh";
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

test("start in an empty folder, create a webhook, SIGTERM, start again: state kept", async () => {
  const { dir, exe } = await binaryInEmptyDir();
  dirs.push(dir);
  const env = { WAHOOK_DATA_DIR: join(dir, "data"), WAHOOK_API_KEY: KEY, WAHOOK_ALLOW_TARGETS: "loopback" };
  const first = await startBinary(exe, dir, env);
  const health = await (await fetch(`${first.url}/health`)).json();
  expect(health).toMatchObject({ status: "ok", database: "ok" });
  expect(statSync(join(dir, "data")).mode & 0o777).toBe(0o700);

  const created = await fetch(`${first.url}/v1/webhooks`, {
    method: "POST",
    headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ url: "http://127.0.0.1:9/hook", events: ["message.received"] }),
  });
  expect(created.status).toBe(201);
  const { id } = (await created.json()) as { id: string };

  const t0 = performance.now();
  first.proc.kill("SIGTERM");
  expect(await first.proc.exited).toBe(0);
  expect(performance.now() - t0).toBeLessThan(5_000);

  const second = await startBinary(exe, dir, env);
  const got = await fetch(`${second.url}/v1/webhooks/${id}`, { headers: { authorization: `Bearer ${KEY}` } });
  expect(got.status).toBe(200);
  expect(((await got.json()) as { url: string }).url).toBe("http://127.0.0.1:9/hook");
  second.proc.kill("SIGTERM");
  expect(await second.proc.exited).toBe(0);
});

test("SIGTERM the moment the API answers (WhatsApp still loading): a clean stop, exit 0", async () => {
  const { dir, exe } = await binaryInEmptyDir();
  dirs.push(dir);
  const started = await startBinary(exe, dir, { WAHOOK_DATA_DIR: join(dir, "data"), WAHOOK_API_KEY: KEY, WAHOOK_LOG_LEVEL: "info" });
  started.proc.kill("SIGTERM");
  expect(await started.proc.exited).toBe(0);
  const log = (await new Response(started.proc.stdout).text()) + (await started.stderr());
  expect(log).toContain('"msg":"wahook started"');
  expect(log).toContain('"msg":"stopped"');
});

test("without WAHOOK_API_KEY the first start prints a generated key once; it works; the second start prints none", async () => {
  const { dir, exe } = await binaryInEmptyDir();
  dirs.push(dir);
  const env = { WAHOOK_DATA_DIR: join(dir, "data") };
  const first = await startBinary(exe, dir, env);
  first.proc.kill("SIGTERM");
  await first.proc.exited;
  const printed = await first.stderr();
  const key = /^\s+(\S{24,})\s*$/m.exec(printed)?.[1];
  expect(printed).toContain("shown only this once");
  expect(key).toBeString();

  const second = await startBinary(exe, dir, env);
  const res = await fetch(`${second.url}/v1/webhooks`, { headers: { authorization: `Bearer ${key}` } });
  expect(res.status).toBe(200);
  expect((await fetch(`${second.url}/v1/webhooks`, { headers: { authorization: "Bearer wrong-key-0123456789abcdefgh" } })).status).toBe(401);
  second.proc.kill("SIGTERM");
  await second.proc.exited;
  expect(await second.stderr()).not.toContain("shown only this once");
});

test("a bad setting stops the binary with exit 2 and names the variable", async () => {
  const { dir, exe } = await binaryInEmptyDir();
  dirs.push(dir);
  const proc = Bun.spawn([exe], { cwd: dir, env: { PATH: process.env.PATH ?? "", WAHOOK_PORT: "99999" }, stderr: "pipe", stdout: "ignore" });
  expect(await proc.exited).toBe(2);
  expect(await new Response(proc.stderr).text()).toContain("WAHOOK_PORT");
});
