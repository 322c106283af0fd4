// The black-box rig: the compiled binary, the standalone emulator in a process of its own
// and a webhook sink, all driven over HTTP and signals only. Crash tests and benchmarks
// share it: start, pair, kill -9, restart on the same port and folder, read the sink.
import { rmSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";
import { binaryInEmptyDir, startBinary, type RunningBinary } from "./binary.ts";
import { startSink, type Sink, type SinkRequest } from "./sink.ts";
import { waitUntil } from "./wait.ts";

export interface EmulatorInfo {
  url: string;
  mediaUrl: string;
  adminUrl: string;
  rootPublicKeyHex: string;
}

export interface Rig {
  emu: EmulatorInfo;
  sink: Sink;
  daemon: RunningBinary;
  key: string;
  /** The emulator's admin API; throws on a non-2xx answer. */
  admin(method: string, path: string, body?: unknown): Promise<any>;
  /** The daemon's API with the admin key. */
  api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  /** Stops the daemon with `signal` and starts it again on the same port and folder. */
  restart(signal: "SIGTERM" | "SIGKILL", extraEnv?: Record<string, string>): Promise<void>;
  kill(signal: "SIGTERM" | "SIGKILL"): Promise<number>;
  /** `prefix` runs the binary through another program (startBinary). */
  start(extraEnv?: Record<string, string>, prefix?: string[]): Promise<void>;
  /** Creates an account, scans its QR on the emulated phone and waits for `open`. Returns its id. */
  pair(phone: string, opts?: { name?: string; history?: { enabled: boolean; messages?: number; chats?: number; chunks?: number } }): Promise<string>;
  close(): Promise<void>;
}

export async function startEmulatorProcess(args: string[] = []): Promise<{ proc: Subprocess<"ignore", "pipe", "inherit">; info: EmulatorInfo }> {
  const proc = Bun.spawn(["bun", resolve(import.meta.dir, "../wa-emulator/main.ts"), "--port", "0", ...args], { stdout: "pipe", stderr: "inherit" });
  const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader();
  let line = "";
  while (!line.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("the emulator exited before it was ready");
    line += new TextDecoder().decode(value);
  }
  // Drain the rest: libsignal logs to stdout, and a full pipe would freeze the emulator mid-run.
  void (async () => {
    while (!(await reader.read().catch(() => ({ done: true }))).done);
  })();
  return { proc, info: JSON.parse(line.slice(0, line.indexOf("\n"))) };
}

export async function startRig(opts: { key?: string; env?: Record<string, string>; emulatorArgs?: string[] } = {}): Promise<Rig> {
  const key = opts.key ?? "e2e-rig-admin-key-0123456789abcdef";
  const emulator = await startEmulatorProcess(["--no-history", ...(opts.emulatorArgs ?? [])]);
  const emu = emulator.info;
  const sink = await startSink();
  const { dir, exe } = await binaryInEmptyDir();
  const env: Record<string, string> = {
    WAHOOK_DATA_DIR: join(dir, "data"),
    WAHOOK_API_KEY: key,
    WAHOOK_ALLOW_TARGETS: "loopback",
    WAHOOK_WA_URL: emu.url,
    WAHOOK_WA_MEDIA_URL: emu.mediaUrl,
    WAHOOK_WA_ROOT_KEY: emu.rootPublicKeyHex,
    ...opts.env,
  };
  let port = "";
  const rig: Rig = {
    emu,
    sink,
    key,
    daemon: null as unknown as RunningBinary,
    async admin(method, path, body) {
      const res = await fetch(emu.adminUrl + path, { method, body: body === undefined ? undefined : JSON.stringify(body), headers: { "content-type": "application/json" } });
      const text = await res.text();
      if (!res.ok) throw new Error(`emulator ${method} ${path}: ${res.status} ${text}`);
      return text ? JSON.parse(text) : null;
    },
    async api(method, path, body) {
      const res = await fetch(rig.daemon.url + path, {
        method,
        headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null };
    },
    async start(extraEnv = {}, prefix = []) {
      rig.daemon = await startBinary(exe, dir, { ...env, ...(port ? { WAHOOK_PORT: port } : {}), ...extraEnv }, prefix);
      port = new URL(rig.daemon.url).port;
    },
    async kill(signal) {
      rig.daemon.proc.kill(signal);
      return rig.daemon.proc.exited;
    },
    async restart(signal, extraEnv) {
      await rig.kill(signal);
      await rig.start(extraEnv);
    },
    async pair(phone, o = {}) {
      await rig.admin("POST", "/devices", { phone, pushName: o.name ?? "Shop", history: o.history ?? { enabled: false } });
      const id = (await rig.api("POST", "/v1/accounts", { name: o.name ?? "Shop" })).body.id as string;
      const qr = await rig.api("GET", `/v1/accounts/${id}/qr`);
      if (qr.status !== 200) throw new Error(`no QR: ${JSON.stringify(qr.body)}`);
      await rig.admin("POST", `/devices/${phone}/scan`, { qr: qr.body.qr, pushName: o.name ?? "Shop" });
      await waitUntil(async () => (await rig.api("GET", `/v1/accounts/${id}`)).body.state === "open", 20_000, "account open");
      return id;
    },
    async close() {
      rig.daemon?.proc.kill("SIGKILL");
      await rig.daemon?.proc.exited;
      emulator.proc.kill("SIGTERM");
      await emulator.proc.exited;
      await sink.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await rig.start();
  return rig;
}

/** Body of a sink request as the payload object. */
export const payload = (r: SinkRequest) => r.json as any;

/**
 * What a receiver may rely on, checked over everything the sink got: duplicates only as
 * resends of the same webhook-id with the same body, each chat's seq contiguous from 1.
 * Returns the first request of each webhook-id.
 */
export function uniqueDeliveries(requests: SinkRequest[]): { unique: SinkRequest[]; problems: string[] } {
  const first = new Map<string, SinkRequest>();
  const problems: string[] = [];
  const byChat = new Map<string, number[]>();
  for (const r of requests) {
    const id = r.headers["webhook-id"]!;
    const seen = first.get(id);
    if (seen) {
      if (seen.body !== r.body) problems.push(`webhook-id ${id} sent twice with different bodies`);
      continue;
    }
    first.set(id, r);
    const b = payload(r);
    const chat = b.chat_id ?? b.event;
    byChat.set(chat, [...(byChat.get(chat) ?? []), b.seq]);
  }
  for (const [chat, seqs] of byChat) {
    const sorted = [...seqs].sort((a, b) => a - b);
    if (sorted.some((s, i) => s !== i + 1)) problems.push(`chat ${chat}: seq not contiguous from 1 (${sorted.slice(0, 10).join(",")}…)`);
    if (seqs.some((s, i) => i > 0 && s < seqs[i - 1]!)) problems.push(`chat ${chat}: seq out of order`);
  }
  return { unique: [...first.values()], problems };
}
