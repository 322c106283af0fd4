// Sessions that survive everything: restart without a new QR, 401 → logged_out, 440 →
// conflict without a loop, 515 → at once, dropped TCP → backoff and recovery; no
// duplicate deliveries across any of it.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startWaWorld, type WaWorld } from "../support/wa.ts";
import { waitUntil } from "../support/wait.ts";

let w: WaWorld;
beforeAll(async () => {
  w = await startWaWorld({ seed: "wa-lifecycle" });
  await w.webhook();
});
afterAll(() => w.close());

const texts = () => w.sink.requests.map((r) => (r.json as { message: { text: string } }).message.text);

test("a received text reaches the webhook; after a daemon restart the session resumes without a QR and messages sent meanwhile arrive once", async () => {
  const id = await w.pair("15550002001");
  const dev = w.emu.device("15550002001");
  await dev.sendText({ from: "15557770001", text: "before restart", pushName: "Alice" });
  await w.sink.waitFor((rs) => texts().includes("before restart"));

  await w.daemon.stop();
  // The emulator, like WhatsApp, queues for a device it knows is offline.
  await waitUntil(() => !dev.connected, 5_000, "emulator sees the device offline");
  await dev.sendText({ from: "15557770001", text: "while down", pushName: "Alice" });
  await w.start();
  await w.waitState(id, "open", 15_000);
  expect(w.daemon.accounts.session(id)?.qr).toBeNull();
  await w.sink.waitFor(() => texts().includes("while down"));
  await w.settled();
  expect(texts().filter((t) => t === "while down")).toHaveLength(1);
  expect(texts().filter((t) => t === "before restart")).toHaveLength(1);
});

test("515 reconnects at once; a dropped TCP connection recovers with backoff; nothing is delivered twice", async () => {
  const id = await w.pair("15550002002");
  const dev = w.emu.device("15550002002");
  const session = w.daemon.accounts.session(id)!;
  const before = session.connects;
  w.emu.fault("15550002002", { type: "close", code: 515 });
  await waitUntil(() => session.connects === before + 1, 5_000);
  await w.waitState(id, "open");
  await dev.sendText({ from: "15557770002", text: "after 515" });
  await w.sink.waitFor(() => texts().includes("after 515"));

  w.emu.fault("15550002002", { type: "drop" });
  await waitUntil(() => session.connects === before + 2, 8_000);
  await w.waitState(id, "open", 8_000);
  await dev.sendText({ from: "15557770002", text: "after drop" });
  await w.sink.waitFor(() => texts().includes("after drop"));
  await w.settled();
  for (const t of ["after 515", "after drop"]) expect(texts().filter((x) => x === t)).toHaveLength(1);
  const account = await w.account(id);
  expect(account.last_disconnect.code).toBe(428);
});

test("440 (replaced elsewhere) → conflict and no reconnect loop; restart takes the session back", async () => {
  const id = await w.pair("15550002003");
  const session = w.daemon.accounts.session(id)!;
  const before = session.connects;
  w.emu.fault("15550002003", { type: "close", code: 440 });
  await w.waitState(id, "conflict");
  // A stopped session schedules no reconnect: a loop could not start later.
  expect(session.isRunning).toBe(false);
  expect(session.connects).toBe(before);
  expect((await w.account(id)).last_disconnect).toMatchObject({ code: 440 });
  const restarted = await w.api("POST", `/v1/accounts/${id}/restart`);
  expect(restarted.status).toBe(200);
  await w.waitState(id, "open");
});

test("401 (removed on the phone) → logged_out, credentials wiped, a new QR can be fetched and paired", async () => {
  const id = await w.pair("15550002004");
  w.emu.fault("15550002004", { type: "close", code: 401 });
  await w.waitState(id, "logged_out");
  const account = await w.account(id);
  expect(account.phone).toBeNull();
  expect(w.daemon.store.sqlite.query("SELECT COUNT(*) n FROM wa_creds WHERE account_id = ?").get(id)).toEqual({ n: 0 });
  const qr = await w.api("GET", `/v1/accounts/${id}/qr`);
  expect(qr.status).toBe(200);
  w.emu.scanQr(qr.body.qr, { phone: "15550002004" });
  await w.waitState(id, "open", 15_000);
});
