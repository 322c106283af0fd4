// The whole daemon in-process against the loopback WhatsApp emulator and a webhook sink:
// what the WhatsApp tests drive through the HTTP API, exactly as an admin would.
import { rmSync } from "node:fs";
import { join } from "node:path";
import { loadConfig } from "../../src/config.ts";
import { silentLogger } from "../../src/log.ts";
import { startDaemon, type Daemon, type DaemonOptions } from "../../src/main.ts";
import { startEmulator, type StartedEmulator } from "../wa-emulator/emulator.ts";
import { ROOT_PUBLIC_KEY_HEX } from "../wa-emulator/noise.ts";
import { readResponse, tempDir } from "./app.ts";
import { startSink, type Sink } from "./sink.ts";
import { waitUntil } from "./wait.ts";

export const API_KEY = "test-admin-key-0123456789abcdef";

export interface WaWorld {
  emu: StartedEmulator;
  sink: Sink;
  daemon: Daemon;
  dataDir: string;
  env: Record<string, string>;
  api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any; headers: Headers }>;
  /** Creates an account, scans its QR in the emulator as `phone`, waits for `open`. */
  pair(phone: string, opts?: { name?: string; pushName?: string; email?: string }): Promise<string>;
  /** A webhook for both triggers (and `events` if given) to the sink. */
  webhook(extra?: Record<string, unknown>): Promise<string>;
  account(id: string): Promise<any>;
  waitState(id: string, state: string, timeoutMs?: number): Promise<void>;
  /**
   * Waits until no queued event is left to send. What the receiver has then is all it gets
   * of what was stored so far: a repeat would need an open row (a resend) or a second row,
   * which would have been queued with the first.
   */
  settled(timeoutMs?: number): Promise<void>;
  /** Stops the daemon (graceful) and starts a new one on the same data folder. */
  restart(): Promise<void>;
  /** Starts a new daemon on the same data folder (after daemon.stop()). */
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startWaWorld(opts: { seed?: string; history?: Parameters<typeof startEmulator>[0] extends infer O ? (O extends { history?: infer H } ? H : never) : never; env?: Record<string, string>; daemon?: DaemonOptions } = {}): Promise<WaWorld> {
  const emu = await startEmulator({ seed: opts.seed ?? "wa-world", history: opts.history ?? { enabled: false } });
  const sink = await startSink();
  const dataDir = tempDir("wahook-wa-");
  const env: Record<string, string> = {
    WAHOOK_DATA_DIR: dataDir,
    WAHOOK_HOST: "127.0.0.1",
    WAHOOK_PORT: "0",
    WAHOOK_API_KEY: API_KEY,
    WAHOOK_ALLOW_TARGETS: "loopback",
    WAHOOK_WA_URL: emu.url,
    WAHOOK_WA_MEDIA_URL: emu.mediaUrl,
    WAHOOK_WA_ROOT_KEY: ROOT_PUBLIC_KEY_HEX,
    ...opts.env,
  };
  const boot = () => startDaemon(loadConfig(env), silentLogger, { quietQr: true, ...opts.daemon });
  const world: WaWorld = {
    emu,
    sink,
    daemon: await boot(),
    dataDir,
    env,
    async api(method, path, body) {
      const res = await fetch(`http://127.0.0.1:${world.daemon.port}${path}`, {
        method,
        headers: { authorization: `Bearer ${API_KEY}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return readResponse(res);
    },
    async pair(phone, o = {}) {
      const created = await world.api("POST", "/v1/accounts", { name: o.name ?? `acct ${phone}`, email: o.email ?? null });
      if (created.status !== 201) throw new Error(`create account: ${created.status} ${JSON.stringify(created.body)}`);
      const id = created.body.id as string;
      const qr = await world.api("GET", `/v1/accounts/${id}/qr`);
      if (qr.status !== 200) throw new Error(`qr: ${qr.status} ${JSON.stringify(qr.body)}`);
      emu.scanQr(qr.body.qr, { phone, pushName: o.pushName ?? `Owner ${phone}` });
      await world.waitState(id, "open", 15_000);
      return id;
    },
    async webhook(extra = {}) {
      const res = await world.api("POST", "/v1/webhooks", { url: sink.url("/wa"), events: ["message.received", "message.sent"], ...extra });
      if (res.status !== 201) throw new Error(`webhook: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body.id;
    },
    async account(id) {
      return (await world.api("GET", `/v1/accounts/${id}`)).body;
    },
    async waitState(id, state, timeoutMs = 10_000) {
      let last = "";
      await waitUntil(
        async () => {
          last = (await world.account(id)).state;
          return last === state;
        },
        timeoutMs,
        `account ${id} state ${state}`,
      ).catch((e) => {
        throw new Error(`${(e as Error).message} (last state: ${last})`);
      });
    },
    async settled(timeoutMs = 10_000) {
      const open = world.daemon.store.sqlite.query<{ n: number }, []>("SELECT COUNT(*) AS n FROM outbox WHERE status IN ('pending', 'in_flight')");
      await waitUntil(() => open.get()!.n === 0, timeoutMs, "every queued event sent");
    },
    async restart() {
      await world.daemon.stop();
      world.daemon = await boot();
    },
    async start() {
      world.daemon = await boot();
    },
    async close() {
      await world.daemon.stop();
      await sink.close();
      await emu.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return world;
}
