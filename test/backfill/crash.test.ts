// kill -9 in the middle of a backfill, twice: the daemon (a child process) comes back,
// resumes the job from its cursor and finishes it. The receiver gets every message, each
// chat in time order, duplicates only as resends with the same webhook-id, and the job's
// progress adds up.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { resolve } from "node:path";
import type { Subprocess } from "bun";
import { startEmulator, type StartedEmulator } from "../wa-emulator/emulator.ts";
import { ROOT_PUBLIC_KEY_HEX } from "../wa-emulator/noise.ts";
import { readResponse, tempDir } from "../support/app.ts";
import { freePort } from "../support/binary.ts";
import { startSink, type Sink, type SinkRequest } from "../support/sink.ts";
import { waitUntil } from "../support/wait.ts";

const KEY = "crash-test-admin-key-0123456789ab";
const PHONE = "15550005001";
const MESSAGES = 3_000;
let emu: StartedEmulator;
let sink: Sink;
let dir: string;
let port: number;
let child: Subprocess<"ignore", "ignore", "pipe"> | null = null;

beforeAll(async () => {
  emu = await startEmulator({ seed: "backfill-crash", history: { enabled: false } });
  emu.device(PHONE).setHistory({ enabled: true, messages: MESSAGES, chats: 30, chunks: 3 });
  sink = await startSink();
  dir = tempDir("wahook-crash-");
  port = await freePort();
});
afterAll(async () => {
  child?.kill("SIGKILL");
  await sink.close();
  await emu.close();
  rmSync(dir, { recursive: true, force: true });
});

async function startChild(): Promise<void> {
  child = Bun.spawn(["bun", resolve(import.meta.dir, "../../src/cli.ts")], {
    env: {
      PATH: process.env.PATH ?? "",
      HOME: dir,
      WAHOOK_DATA_DIR: dir,
      WAHOOK_HOST: "127.0.0.1",
      WAHOOK_PORT: String(port),
      WAHOOK_API_KEY: KEY,
      WAHOOK_ALLOW_TARGETS: "loopback",
      WAHOOK_LOG_LEVEL: "error",
      WAHOOK_WA_URL: emu.url,
      WAHOOK_WA_MEDIA_URL: emu.mediaUrl,
      WAHOOK_WA_ROOT_KEY: ROOT_PUBLIC_KEY_HEX,
    },
    stdout: "ignore",
    stderr: "pipe",
  });
  await waitUntil(async () => (await fetch(`http://127.0.0.1:${port}/health`).catch(() => null))?.ok === true, 15_000, "daemon healthy");
}

async function api(method: string, path: string, body?: unknown) {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: { authorization: `Bearer ${KEY}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return readResponse(res);
}

async function kill9(): Promise<void> {
  child!.kill("SIGKILL");
  await child!.exited;
}

const body = (r: SinkRequest) => r.json as any;
const history = () => sink.requests.filter((r) => body(r)?.history === true);

test("kill -9 twice mid-backfill: it resumes, finishes, nothing is missing, progress adds up", async () => {
  await startChild();
  expect((await api("POST", "/v1/webhooks", { url: sink.url("/h"), events: ["message.received", "message.sent"], max_concurrency: 8 })).status).toBe(201);
  const account = (await api("POST", "/v1/accounts", { name: "crash" })).body.id as string;
  const qr = await api("GET", `/v1/accounts/${account}/qr`);
  emu.scanQr(qr.body.qr, { phone: PHONE });
  const storedCount = async () => ((await api("GET", `/v1/accounts/${account}/chats?limit=200`)).body.data as any[]).reduce((n, c) => n + c.message_count, 0);
  await waitUntil(async () => (await storedCount()) === MESSAGES, 30_000, "history stored");

  const job = (await api("POST", `/v1/accounts/${account}/backfills`, { rate_per_s: 300 })).body;
  expect(job.state).toBe("planning");
  for (const at of [600, 1_600]) {
    await sink.waitFor(() => history().length >= at, 20_000);
    await kill9();
    await startChild();
    await waitUntil(async () => (await api("GET", `/v1/accounts/${account}`)).body.state === "open", 15_000, "session resumed");
  }
  let last: any;
  await waitUntil(
    async () => {
      last = (await api("GET", `/v1/accounts/${account}/backfills/${job.id}`)).body;
      return last.state === "finished";
    },
    30_000,
    "backfill finished",
  );
  expect(last.progress).toMatchObject({ total: MESSAGES, enqueued: MESSAGES, skipped: 0, delivered: MESSAGES, failed: 0, pending: 0, percent: 100 });

  const got = history();
  const firstById = new Map<string, SinkRequest>();
  for (const r of got) {
    const id = body(r).message.id as string;
    const first = firstById.get(id);
    if (first) expect(r.headers["webhook-id"]).toBe(first.headers["webhook-id"]);
    else firstById.set(id, r);
  }
  expect(firstById.size).toBe(MESSAGES);
  // Resends after a kill are at most what was in flight then, not whole stretches again.
  expect(got.length - MESSAGES).toBeLessThan(50);
  const byChat = new Map<string, any[]>();
  for (const r of firstById.values()) byChat.set(body(r).chat_id, [...(byChat.get(body(r).chat_id) ?? []), body(r)]);
  for (const [, list] of byChat) {
    expect(list.map((b) => Number(b.timestamp))).toEqual(list.map((b) => Number(b.timestamp)).sort((a, b) => a - b));
    expect(list.map((b) => b.seq)).toEqual(list.map((_, i) => i + 1));
  }
}, 120_000);
