// The compiled binary as a user runs it, driven only through HTTP: its API, the standalone
// emulator's admin API (a WhatsApp of its own, in its own process) and a webhook sink.
// Pair, live messages both ways, a graceful restart, kill -9 during traffic, a backfill of
// the history — and at the end the exact contents of the sink: every message, each chat in
// order with contiguous seq, duplicates only as resends with the same webhook-id, every
// request signed.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";
import { Webhook } from "standardwebhooks";
import { binaryInEmptyDir, startBinary, type RunningBinary } from "../support/binary.ts";
import { startSink, type Sink, type SinkRequest } from "../support/sink.ts";
import { waitUntil } from "../support/wait.ts";

const KEY = "e2e-whatsapp-admin-key-0123456789";
const PHONE = "15550006001";
const HISTORY = 300;

interface EmulatorInfo {
  url: string;
  mediaUrl: string;
  adminUrl: string;
  rootPublicKeyHex: string;
}

let emulator: Subprocess<"ignore", "pipe", "inherit">;
let emu: EmulatorInfo;
let sink: Sink;
let dir: string;
let exe: string;
let daemon: RunningBinary;
let env: Record<string, string>;
let secret: string;
let hookId: string;
let account: string;

async function admin(method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(emu.adminUrl + path, { method, body: body === undefined ? undefined : JSON.stringify(body), headers: { "content-type": "application/json" } });
  const text = await res.text();
  if (!res.ok) throw new Error(`emulator ${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(daemon.url + path, {
    method,
    headers: { authorization: `Bearer ${KEY}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

const state = async () => (await api("GET", `/v1/accounts/${account}`)).body.state as string;
const body = (r: SinkRequest) => r.json as any;
const texts = () => sink.requests.map((r) => body(r).message?.text as string | null);

beforeAll(async () => {
  emulator = Bun.spawn(["bun", resolve(import.meta.dir, "../wa-emulator/main.ts"), "--port", "0", "--seed", "e2e", "--no-history"], { stdout: "pipe", stderr: "inherit" });
  const reader = (emulator.stdout as ReadableStream<Uint8Array>).getReader();
  let line = "";
  while (!line.includes("\n")) line += new TextDecoder().decode((await reader.read()).value ?? new Uint8Array());
  emu = JSON.parse(line.slice(0, line.indexOf("\n")));
  sink = await startSink();
  ({ dir, exe } = await binaryInEmptyDir());
  env = {
    WAHOOK_DATA_DIR: join(dir, "data"),
    WAHOOK_API_KEY: KEY,
    WAHOOK_ALLOW_TARGETS: "loopback",
    WAHOOK_WA_URL: emu.url,
    WAHOOK_WA_MEDIA_URL: emu.mediaUrl,
    WAHOOK_WA_ROOT_KEY: emu.rootPublicKeyHex,
  };
  daemon = await startBinary(exe, dir, env);
  await admin("POST", "/devices", { phone: PHONE, pushName: "Shop", history: { enabled: true, messages: HISTORY, chats: 6, chunks: 2 } });
}, 30_000);

afterAll(async () => {
  daemon?.proc.kill("SIGKILL");
  emulator?.kill("SIGTERM");
  await sink?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The same port and folder again, as systemd would restart it. */
async function restart(how: "SIGTERM" | "SIGKILL"): Promise<void> {
  const port = new URL(daemon.url).port;
  daemon.proc.kill(how);
  expect(await daemon.proc.exited).toBe(how === "SIGTERM" ? 0 : 137);
  daemon = await startBinary(exe, dir, { ...env, WAHOOK_PORT: port });
}

test("pair from the API: the QR the daemon shows, scanned on the emulated phone, opens the account", async () => {
  const hook = await api("POST", "/v1/webhooks", { url: sink.url("/wa"), events: ["message.received", "message.sent", "backfill.finished"] });
  expect(hook.status).toBe(201);
  secret = hook.body.secret;
  hookId = hook.body.id;
  account = (await api("POST", "/v1/accounts", { name: "Shop", email: "shop@example.com" })).body.id;
  const qr = await api("GET", `/v1/accounts/${account}/qr`);
  expect(qr.status).toBe(200);
  await admin("POST", `/devices/${PHONE}/scan`, { qr: qr.body.qr, pushName: "Shop" });
  await waitUntil(async () => (await state()) === "open", 20_000, "account open");
  expect((await api("GET", `/v1/accounts/${account}`)).body.phone).toBe(PHONE);
  // History is stored, not sent.
  await waitUntil(async () => ((await api("GET", `/v1/accounts/${account}/chats`)).body.data as any[]).reduce((n, c) => n + c.message_count, 0) === HISTORY, 20_000, "history stored");
  expect(sink.requests).toHaveLength(0);
}, 60_000);

test("live messages, both triggers; a graceful restart; messages sent while it was down arrive once", async () => {
  await admin("POST", `/devices/${PHONE}/messages`, { kind: "text", from: "15557000001", text: "hello shop", pushName: "Ana" });
  await admin("POST", `/devices/${PHONE}/messages`, { kind: "text", fromMe: true, to: "15557000001", text: "hello Ana" });
  await sink.waitFor(2, 10_000);
  const [received, sent] = sink.requests.map(body);
  expect(received).toMatchObject({ event: "message.received", direction: "received", chat_id: "15557000001@c.us", sender: { phone: "15557000001", wa_name: "Ana" }, user_phone: PHONE, user_email: "shop@example.com", history: false });
  expect(sent).toMatchObject({ event: "message.sent", direction: "sent", chat_id: "15557000001@c.us", sender: { phone: PHONE }, message: { text: "hello Ana" } });

  await restart("SIGTERM");
  await admin("POST", `/devices/${PHONE}/messages`, { kind: "text", from: "15557000002", text: "while you restarted" });
  await waitUntil(async () => (await state()) === "open", 20_000, "session resumed");
  await sink.waitFor(() => texts().includes("while you restarted"), 15_000);
  // Nothing left queued: a repeat would need an open row (a resend) or a second one.
  await waitUntil(async () => {
    const stats = (await api("GET", `/v1/webhooks/${hookId}/stats`)).body;
    return stats.pending === 0 && stats.in_flight === 0;
  }, 10_000, "every queued event sent");
  expect(texts().filter((t) => t === "while you restarted")).toHaveLength(1);
}, 60_000);

test("kill -9 during a stream of 600 messages: every one arrives, in order per chat", async () => {
  await admin("POST", `/devices/${PHONE}/burst`, { count: 600, contacts: 12, rate: 150, prefix: "stream" });
  await sink.waitFor(() => texts().filter((t) => t?.startsWith("stream ")).length >= 150, 20_000);
  await restart("SIGKILL");
  await waitUntil(async () => (await state()) === "open", 20_000, "session resumed after kill -9");
  await sink.waitFor(() => new Set(texts().filter((t) => t?.startsWith("stream ")).map((t) => t!.split(" ")[1])).size === 600, 30_000);
}, 60_000);

test("a backfill sends the stored history: all of it, marked history, nothing already sent live, then backfill.finished", async () => {
  const created = await api("POST", `/v1/accounts/${account}/backfills`, { rate_per_s: 200 });
  expect(created.status).toBe(201);
  await waitUntil(async () => (await api("GET", `/v1/accounts/${account}/backfills/${created.body.id}`)).body.state === "finished", 30_000, "backfill finished");
  const done = await sink.waitFor((rs) => rs.some((r) => body(r).event === "backfill.finished"), 10_000);
  // Everything stored is selected; what went out live (603) is skipped, not sent twice.
  expect(body(done.find((r) => body(r).event === "backfill.finished")!).backfill).toMatchObject({ total: HISTORY + 603, skipped: 603, delivered: HISTORY, failed: 0 });
  expect(new Set(sink.requests.filter((r) => body(r).history === true).map((r) => body(r).message.id)).size).toBe(HISTORY);
}, 60_000);


test("the sink's contents: nothing lost, per-chat order with contiguous seq, duplicates only as same-id resends, all signed", () => {
  const verifier = new Webhook(secret);
  const first = new Map<string, SinkRequest>();
  const byChat = new Map<string, number[]>();
  for (const r of sink.requests) {
    expect(() => verifier.verify(r.body, r.headers)).not.toThrow();
    const id = r.headers["webhook-id"]!;
    const seen = first.get(id);
    if (seen) {
      expect(r.body).toBe(seen.body);
      continue;
    }
    first.set(id, r);
    const b = body(r);
    const key = b.chat_id ?? "backfills";
    byChat.set(key, [...(byChat.get(key) ?? []), b.seq]);
  }
  for (const [chat, seqs] of byChat) expect({ chat, seqs }).toEqual({ chat, seqs: seqs.map((_, i) => i + 1) });
  // Each WhatsApp message once per event: 2 live + 1 across the restart + 600 streamed + the history.
  const messages = [...first.values()].map(body).filter((b) => b.message);
  expect(new Set(messages.map((b) => `${b.event} ${b.message.id}`)).size).toBe(messages.length);
  expect(messages).toHaveLength(2 + 1 + 600 + HISTORY);
  // The stream keeps the phone's order within each chat.
  const stream = messages.filter((b) => b.message.text?.startsWith("stream "));
  const streamByChat = new Map<string, number[]>();
  for (const b of stream) streamByChat.set(b.chat_id, [...(streamByChat.get(b.chat_id) ?? []), Number(b.message.text.split(" ")[1])]);
  for (const [, order] of streamByChat) expect(order).toEqual([...order].sort((a, b) => a - b));
});

test("the binary checkpoints its WAL on its own thread while it writes (the thread is built into it)", async () => {
  const metric = async (name: string) => {
    const res = await fetch(`${daemon.url}/metrics`, { headers: { authorization: `Bearer ${KEY}` } });
    const line = (await res.text()).split("\n").find((l) => l.startsWith(name + " "));
    return Number(line?.split(" ")[1]);
  };
  // Streams, restarts and a backfill wrote thousands of pages by now.
  await admin("POST", `/devices/${PHONE}/burst`, { count: 60, contacts: 3, rate: 300, prefix: "checkpointed" });
  await waitUntil(async () => (await metric("wahook_wal_checkpoint_frames_total")) > 0, 10_000, "the checkpoint thread copied WAL pages");
}, 30_000);
