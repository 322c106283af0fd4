// The compiled binary under a small open-files limit (prlimit) with more paired accounts
// than fit: it stays up, the accounts that fit are open and deliver, the rest wait as
// `failed` with problem `resource_limit`, pairing another answers 503 resource_limit, and
// with the limit raised a restart opens them all. Also: right after a start no account
// shows the `open` of the last run.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startRig, type Rig } from "../support/e2e.ts";
import { accountStates, collectLog, pairMany } from "../support/many.ts";
import { waitUntil } from "../support/wait.ts";

const ACCOUNTS = 12;
/** 12 handles in use at start and 32 kept free leave room for 4 accounts (openFiles.ts). */
const LIMIT = 48;

let rig: Rig;
let ids: string[];
let phones: string[];
beforeAll(async () => {
  rig = await startRig({ env: { WAHOOK_LOG_LEVEL: "info" } });
  collectLog(rig);
  ({ ids, phones } = await pairMany(rig, ACCOUNTS));
  const webhook = await rig.api("POST", "/v1/webhooks", { url: rig.sink.url("/hook"), events: ["message.received"] });
  expect(webhook.status).toBe(201);
}, 60_000);
afterAll(() => rig.close());

test("more accounts than the open-files limit allows: the daemon stays up, those that fit are open, the rest failed with resource_limit", async () => {
  await rig.kill("SIGTERM");
  await rig.start({ WAHOOK_LOG_LEVEL: "info" }, ["prlimit", `--nofile=${LIMIT}:${LIMIT}`]);
  const log = collectLog(rig);
  await waitUntil(() => log.some((l) => l.msg === "open-files limit"), 10_000, "the limit logged");
  const limit = log.find((l) => l.msg === "open-files limit")!;
  expect(limit).toMatchObject({ level: "info", soft: LIMIT, hard: LIMIT });
  const fit = limit.accounts_fit as number;
  expect(fit).toBeGreaterThan(0);
  expect(fit).toBeLessThan(ACCOUNTS);

  let states = await accountStates(rig);
  await waitUntil(
    async () => {
      states = await accountStates(rig);
      return states.filter((a) => a.state === "open").length === fit && states.filter((a) => a.state === "failed").length === ACCOUNTS - fit;
    },
    30_000,
    `${fit} open and ${ACCOUNTS - fit} failed`,
    100,
  ).catch((e) => {
    throw new Error(`${e.message}: ${JSON.stringify(states.map((a) => a.state))}`);
  });
  for (const failed of states.filter((a) => a.state === "failed")) {
    expect(failed.problem).toMatchObject({ code: "resource_limit", message: expect.stringContaining("LimitNOFILE") });
  }
  // One warning for all of them, saying what to do; no error at all.
  expect(log.filter((l) => l.level === "warn").map((l) => l.msg)).toEqual([expect.stringContaining("open-files limit reached")]);
  expect(log.filter((l) => l.level === "error")).toEqual([]);

  // Pairing another answers at once, with the code and what to do.
  const created = await rig.api("POST", "/v1/accounts", { name: "One too many" });
  expect(created.status).toBe(503);
  expect(created.body.error).toMatchObject({ code: "resource_limit", message: expect.stringContaining("open-files limit"), details: { open_files_limit: LIMIT, accounts_fit: fit } });
  const failedId = states.find((a) => a.state === "failed")!.id;
  const qr = await rig.api("GET", `/v1/accounts/${failedId}/qr`);
  expect(qr.status).toBe(503);
  expect(qr.body.error.code).toBe("resource_limit");

  // The accounts that are open deliver; the daemon has not gone anywhere.
  const open = states.find((a) => a.state === "open")!;
  const phone = phones[ids.indexOf(open.id)]!;
  await rig.admin("POST", `/devices/${phone}/messages`, { kind: "text", from: "15557770001", text: "under the limit" });
  await rig.sink.waitFor((rs) => rs.some((r) => (r.json as { message?: { text?: string } }).message?.text === "under the limit"), 15_000);
  expect(rig.daemon.proc.exitCode).toBeNull();
  expect((await fetch(`${rig.daemon.url}/health`)).status).toBe(200);
}, 60_000);

test("with the limit raised, a restart opens them all", async () => {
  await rig.kill("SIGTERM");
  await rig.start({ WAHOOK_LOG_LEVEL: "info" });
  const log = collectLog(rig);
  await waitUntil(async () => (await accountStates(rig)).every((a) => a.state === "open"), 30_000, "all open", 100);
  expect(log.find((l) => l.msg === "open-files limit")!.accounts_fit).toBeGreaterThan(ACCOUNTS);
  expect((await accountStates(rig)).map((a) => a.problem)).toEqual(ids.map(() => null));
}, 60_000);

test("right after a start every account shows connecting until its connection is really open again", async () => {
  // WhatsApp (the emulator) answers logins 3 s late: nothing can be open in that time.
  await rig.admin("PUT", "/settings", { delayMs: 3_000 });
  await rig.kill("SIGTERM");
  const stoppedAt = Date.now();
  await rig.start({ WAHOOK_LOG_LEVEL: "info" });
  collectLog(rig);
  // The first answer, before WhatsApp is even loaded…
  expect((await accountStates(rig)).map((a) => a.state)).toEqual(ids.map(() => "connecting"));
  // …and once the first sockets (8 at a time) are connected and waiting for their logins.
  await waitUntil(async () => (await rig.admin("GET", "/health")).connections >= 8, 10_000, "sockets connected", 20);
  expect((await accountStates(rig)).map((a) => a.state)).toEqual(ids.map(() => "connecting"));
  await rig.admin("PUT", "/settings", { delayMs: 0 });
  await waitUntil(async () => (await accountStates(rig)).every((a) => a.state === "open"), 30_000, "all open", 100);
  for (const a of await accountStates(rig)) expect(Date.parse(a.state_since)).toBeGreaterThan(stoppedAt);
}, 60_000);
