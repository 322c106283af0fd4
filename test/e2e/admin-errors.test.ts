// What an admin sees when things go wrong, and when they do not, from the compiled binary:
// WhatsApp unreachable is named (code, cause, a pointer to `wahook doctor`) within seconds
// of start instead of "QR not scanned in time"; a normal pairing writes no warning or error;
// the start-up line names the WhatsApp endpoint and any test overrides.
import { afterAll, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { binaryInEmptyDir, freePort, startBinary } from "../support/binary.ts";
import { startRig } from "../support/e2e.ts";

const KEY = "admin-errors-key-0123456789abcdef";
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

test("WhatsApp unreachable: /qr and the account say so, with the cause, within seconds", async () => {
  const { dir, exe } = await binaryInEmptyDir();
  dirs.push(dir);
  const closed = await freePort();
  const run = await startBinary(exe, dir, { WAHOOK_DATA_DIR: join(dir, "data"), WAHOOK_API_KEY: KEY, WAHOOK_WA_URL: `ws://127.0.0.1:${closed}/ws/chat`, WAHOOK_LOG_LEVEL: "info" });
  const auth = { authorization: `Bearer ${KEY}`, "content-type": "application/json" };
  const t0 = performance.now();
  const account = (await (await fetch(`${run.url}/v1/accounts`, { method: "POST", headers: auth, body: '{"name":"Sales"}' })).json()) as { id: string };
  const qr = await fetch(`${run.url}/v1/accounts/${account.id}/qr`, { headers: auth });
  const answer = (await qr.json()) as { error: { code: string; message: string; details: { cause: string } } };
  expect(qr.status).toBe(503);
  expect(answer.error.code).toBe("whatsapp_unreachable");
  expect(answer.error.message).toContain("wahook doctor");
  expect(answer.error.details.cause).toContain("ECONNREFUSED");
  expect(performance.now() - t0).toBeLessThan(5_000);

  const view = (await (await fetch(`${run.url}/v1/accounts/${account.id}`, { headers: auth })).json()) as Record<string, any>;
  // Still pairing (retried with backoff), not "stopped: QR not scanned in time".
  expect(view.state).toBe("pairing");
  expect(view.problem).toMatchObject({ code: "whatsapp_unreachable", cause: expect.stringContaining("ECONNREFUSED") });
  expect(view.last_disconnect.reason).toContain("cannot reach WhatsApp");
  expect(view.last_disconnect.reason).not.toContain("not scanned");

  run.proc.kill("SIGTERM");
  await run.proc.exited;
  const log = await new Response(run.proc.stdout).text();
  const started = JSON.parse(log.split("\n").find((l) => l.includes('"msg":"wahook started"'))!);
  expect(started).toMatchObject({ whatsapp: `ws://127.0.0.1:${closed}/ws/chat`, test_overrides: ["WAHOOK_WA_URL"] });
  // One warning for the streak of failures, not one per retry.
  expect(log.split("\n").filter((l) => l.includes("cannot reach WhatsApp")).length).toBe(1);
}, 30_000);

test("a normal pairing writes no warning and no error; the start-up line names WhatsApp's own endpoint by default", async () => {
  const rig = await startRig();
  try {
    await rig.pair("15550015001");
    await rig.kill("SIGTERM");
    const log = await new Response(rig.daemon.proc.stdout).text();
    expect(log.split("\n").filter((l) => /"level":"(warn|error)"/.test(l))).toEqual([]);
  } finally {
    await rig.close();
  }
  const { dir, exe } = await binaryInEmptyDir();
  dirs.push(dir);
  const plain = await startBinary(exe, dir, { WAHOOK_DATA_DIR: join(dir, "data"), WAHOOK_API_KEY: KEY, WAHOOK_LOG_LEVEL: "info" });
  plain.proc.kill("SIGTERM");
  await plain.proc.exited;
  const line = (await new Response(plain.proc.stdout).text()).split("\n").find((l) => l.includes('"msg":"wahook started"'))!;
  expect(JSON.parse(line)).toMatchObject({ whatsapp: "wss://web.whatsapp.com/ws/chat" });
  expect(JSON.parse(line).test_overrides).toBeUndefined();
}, 60_000);
