// Nothing WhatsApp hands to the linked device is lost, whenever the process dies. The
// compiled binary, the standalone emulator and a sink, over HTTP and signals only:
// - kill -9 at 21 moments spread over the catch-up after a restart (WhatsApp streaming
//   what queued while the daemon was down), each followed by a restart;
// - kill -9 during the first login after pairing and during its history sync;
// - a message the device could not decrypt at first: the webhook gets its content, never
//   only the placeholder; with the retry withheld, the placeholder after the grace period
//   and the content once it comes.
// The emulator says which messages the device confirmed: every one of them must be stored.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { payload, startRig, uniqueDeliveries, type Rig } from "../support/e2e.ts";
import { waitUntil } from "../support/wait.ts";

const CRASH_POINTS = 21;
const PER_ROUND = 150;

interface Confirmations {
  confirmed: { id: string; kind: string; receipts: string[] }[];
  unconfirmed: { id: string; kind: string; state: string }[];
}

const texts = (rig: Rig) => uniqueDeliveries(rig.sink.requests).unique.map((r) => payload(r).message?.text as string | undefined);
const devices = async (rig: Rig, phone: string) => (await rig.admin("GET", `/devices/${phone}`)).devices as { connected: boolean; queued: number }[];

describe("kill -9 during the catch-up after a restart", () => {
  const PHONE = "15550009001";
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig();
    await rig.api("POST", "/v1/webhooks", { url: rig.sink.url("/wa"), events: ["message.received"] });
    await rig.pair(PHONE);
    // WhatsApp hands over a queue of thousands over seconds, its end marker last.
    await rig.admin("PUT", "/settings", { offlinePaceMs: 4 });
  }, 60_000);
  afterAll(() => rig.close());

  test(`${CRASH_POINTS} crash points over the catch-up: every message delivered, order and seq kept, loss 0`, async () => {
    const catchUpMs = PER_ROUND * 4;
    const points: number[] = [];
    let sent = 0;
    for (let round = 0; round < CRASH_POINTS; round++) {
      await rig.kill("SIGKILL");
      // Queued while the daemon is down: 150 more messages over 15 chats.
      await rig.admin("POST", `/devices/${PHONE}/burst`, { count: PER_ROUND, contacts: 15, rate: 100_000, prefix: `r${round}` });
      sent += PER_ROUND;
      await waitUntil(async () => (await devices(rig, PHONE))[0]!.queued >= PER_ROUND, 20_000, "queued at the emulator");
      await rig.start();
      await waitUntil(async () => (await devices(rig, PHONE))[0]!.connected, 15_000, "logged in again", 2);
      // Spread from the login to past the end of the catch-up.
      const at = Math.round((round / (CRASH_POINTS - 1)) * catchUpMs * 1.2);
      points.push(at);
      await Bun.sleep(at);
    }
    await rig.restart("SIGKILL");
    await waitUntil(() => new Set(texts(rig).filter(Boolean)).size >= sent, 60_000, "every message delivered").catch(() => {});

    const { unique, problems } = uniqueDeliveries(rig.sink.requests);
    expect(problems).toEqual([]);
    const delivered = new Set(unique.map((r) => payload(r).message.text as string).map((t) => t.split(" ").slice(0, 2).join(" ")));
    const missing: string[] = [];
    for (let round = 0; round < CRASH_POINTS; round++) for (let i = 0; i < PER_ROUND; i++) if (!delivered.has(`r${round} ${i}`)) missing.push(`r${round} ${i}`);
    console.log(JSON.stringify({ crash_points: points.length, points_ms: points, sent, delivered: delivered.size, lost: missing.length }));
    expect(missing).toEqual([]);

    // Each chat's messages in the phone's order.
    const byChat = new Map<string, number[]>();
    for (const r of unique) {
      const b = payload(r);
      const [round, i] = (b.message.text as string).split(" ");
      byChat.set(b.chat_id, [...(byChat.get(b.chat_id) ?? []), Number(round!.slice(1)) * 100_000 + Number(i)]);
    }
    for (const [chat, order] of byChat) expect({ chat, order }).toEqual({ chat, order: [...order].sort((a, b) => a - b) });

    // What the device confirmed to WhatsApp was stored (WhatsApp keeps nothing else).
    const confirmations = (await rig.admin("GET", `/devices/${PHONE}/confirmations`)) as Confirmations;
    const deliveredIds = new Set(unique.map((r) => payload(r).message.id as string));
    const confirmedMessages = confirmations.confirmed.filter((c) => c.kind === "message");
    expect(confirmedMessages.length).toBeGreaterThanOrEqual(sent);
    expect(confirmedMessages.filter((c) => !deliveredIds.has(c.id)).map((c) => c.id)).toEqual([]);
  }, 240_000);
});

describe("kill -9 during the first login and its history sync", () => {
  const HISTORY = 3000;
  const points = [0, 40, 80, 150, 220, 300, 450, 700];
  for (const at of points)
    test(`killed ${at} ms after the QR scan: after a restart every history message is stored`, async () => {
      const rig = await startRig();
      try {
        const phone = `1555001${String(at).padStart(4, "0")}`;
        await rig.admin("POST", "/devices", { phone, pushName: "Shop", history: { enabled: true, messages: HISTORY, chats: 20, chunks: 6 } });
        const id = (await rig.api("POST", "/v1/accounts", { name: "Shop" })).body.id as string;
        const qr = await rig.api("GET", `/v1/accounts/${id}/qr`);
        await rig.admin("POST", `/devices/${phone}/scan`, { qr: qr.body.qr, pushName: "Shop" });
        await Bun.sleep(at);
        await rig.restart("SIGKILL");
        const state = async () => (await rig.api("GET", `/v1/accounts/${id}`)).body.state as string;
        await waitUntil(async () => ["open", "pairing"].includes(await state()), 20_000, "connected or pairing again");
        if ((await state()) === "pairing") {
          // Killed before it saved what the scan gave it: the phone shows a device that never
          // came up, and the user scans again, as with WhatsApp Web. History comes with it.
          const again = await rig.api("GET", `/v1/accounts/${id}/qr`);
          await rig.admin("POST", `/devices/${phone}/scan`, { qr: again.body.qr, pushName: "Shop" });
        }
        await waitUntil(async () => (await state()) === "open", 20_000, "open after the restart");
        const stored = async () => ((await rig.api("GET", `/v1/accounts/${id}/chats?limit=100`)).body.data as { message_count: number }[]).reduce((n, c) => n + c.message_count, 0);
        await waitUntil(async () => (await stored()) >= HISTORY, 30_000, "history stored").catch(() => {});
        expect({ at, stored: await stored() }).toEqual({ at, stored: HISTORY });
        // The device confirmed each history notification only once its chunk was safe.
        const confirmations = (await rig.admin("GET", `/devices/${phone}/confirmations`)) as Confirmations;
        expect(confirmations.unconfirmed.filter((c) => c.kind === "history")).toEqual([]);
      } finally {
        await rig.close();
      }
    }, 60_000);
});

describe("a message the device could not decrypt at first", () => {
  const PHONE = "15550009002";
  let rig: Rig;
  let hookId: string;
  beforeAll(async () => {
    rig = await startRig({ env: { WAHOOK_DECRYPT_GRACE_S: "2" } });
    hookId = (await rig.api("POST", "/v1/webhooks", { url: rig.sink.url("/wa"), events: ["message.received"] })).body.id;
    await rig.pair(PHONE);
  }, 60_000);
  afterAll(() => rig.close());

  test("WhatsApp retries it: the webhook gets the content under its id, never the placeholder", async () => {
    const sent = await rig.admin("POST", `/devices/${PHONE}/messages`, { kind: "text", from: "15557100001", text: "decrypted on the second try", undecryptable: "retry" });
    await rig.sink.waitFor((rs) => rs.some((r) => payload(r).message?.id === sent.id), 10_000);
    // A placeholder still to come would be a row held for the grace period: wait until none is left.
    await waitUntil(async () => {
      const stats = (await rig.api("GET", `/v1/webhooks/${hookId}/stats`)).body;
      return stats.pending === 0 && stats.in_flight === 0;
    }, 10_000, "every queued event sent");
    const mine = rig.sink.requests.map(payload).filter((b) => b.message?.id === sent.id);
    expect(mine.map((b) => [b.message.type, b.message.text])).toEqual([["chat", "decrypted on the second try"]]);
  }, 30_000);

  test("the retry withheld: the placeholder after the grace period, the content when it comes, same message.id", async () => {
    const sent = await rig.admin("POST", `/devices/${PHONE}/messages`, { kind: "text", from: "15557100002", text: "late content", undecryptable: "withhold" });
    const t0 = Date.now();
    await rig.sink.waitFor((rs) => rs.some((r) => payload(r).message?.id === sent.id), 10_000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1_500);
    await rig.admin("POST", `/devices/${PHONE}/messages/${sent.id}/release`);
    await rig.sink.waitFor((rs) => rs.filter((r) => payload(r).message?.id === sent.id).length >= 2, 10_000);
    const mine = uniqueDeliveries(rig.sink.requests).unique.map(payload).filter((b) => b.message?.id === sent.id);
    expect(mine.map((b) => [b.message.type, b.message.text])).toEqual([
      ["ciphertext", null],
      ["chat", "late content"],
    ]);
    expect(mine[1].seq).toBe(mine[0].seq + 1);
  }, 30_000);
});
