// The pieces end-to-end benchmarks share: the compiled binary as a child process (so its
// memory and CPU are its own), pointed at the loopback emulator, driven through its API.
import { rmSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { readResponse, tempDir } from "../test/support/app.ts";
import { ensureBinary, freePort } from "../test/support/binary.ts";
import { waitUntil } from "../test/support/wait.ts";
import type { StartedEmulator } from "../test/wa-emulator/emulator.ts";
import { ROOT_PUBLIC_KEY_HEX } from "../test/wa-emulator/noise.ts";

export const BENCH_KEY = "bench-admin-key-0123456789abcdef";

export interface BenchDaemon {
  url: string;
  pid: number;
  dir: string;
  proc: Subprocess<"ignore", "ignore", "pipe">;
  api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  /** SIGTERM and wait. */
  stop(): Promise<void>;
  /** SIGKILL and wait: the data folder stays as a crash leaves it. */
  kill9(): Promise<void>;
  /** Removes the data folder (after stop). */
  clean(): void;
}

/** Starts dist/wahook (built if missing) on `dataDir` (a new temp folder by default) against `emu`. */
export async function startBinaryDaemon(emu: StartedEmulator | null, opts: { dataDir?: string; env?: Record<string, string> } = {}): Promise<BenchDaemon> {
  // WAHOOK_BENCH_CMD runs something else as the daemon, e.g. "bun --cpu-prof-md src/cli.ts" to profile it.
  const cmd = process.env.WAHOOK_BENCH_CMD ? process.env.WAHOOK_BENCH_CMD.split(" ") : [await ensureBinary()];
  const dir = opts.dataDir ?? tempDir("wahook-bench-");
  const port = await freePort();
  const proc = Bun.spawn(cmd, {
    cwd: process.env.WAHOOK_BENCH_CMD ? process.cwd() : dir,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: dir,
      WAHOOK_DATA_DIR: join(dir, "data"),
      WAHOOK_HOST: "127.0.0.1",
      WAHOOK_PORT: String(port),
      WAHOOK_API_KEY: BENCH_KEY,
      WAHOOK_ALLOW_TARGETS: "loopback",
      WAHOOK_LOG_LEVEL: "error",
      ...(emu ? { WAHOOK_WA_URL: emu.url, WAHOOK_WA_MEDIA_URL: emu.mediaUrl, WAHOOK_WA_ROOT_KEY: ROOT_PUBLIC_KEY_HEX } : {}),
      ...opts.env,
    },
    stdout: "ignore",
    stderr: "pipe",
  });
  const url = `http://127.0.0.1:${port}`;
  const until = Date.now() + 15_000;
  for (;;) {
    const ok = await fetch(`${url}/health`).then((r) => r.ok, () => false);
    if (ok) break;
    if (proc.exitCode !== null || Date.now() > until) throw new Error(`wahook did not start: ${await new Response(proc.stderr).text()}`);
    await Bun.sleep(5);
  }
  const daemon: BenchDaemon = {
    url,
    pid: proc.pid,
    dir,
    proc,
    async api(method, path, body) {
      const res = await fetch(url + path, {
        method,
        headers: { authorization: `Bearer ${BENCH_KEY}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return readResponse(res);
    },
    async stop() {
      proc.kill("SIGTERM");
      await proc.exited;
    },
    async kill9() {
      proc.kill("SIGKILL");
      await proc.exited;
    },
    clean: () => rmSync(dir, { recursive: true, force: true }),
  };
  return daemon;
}

/** Creates an account, lets the emulator scan its QR as `phone`, waits until it is open. */
export async function pairAccount(daemon: BenchDaemon, emu: StartedEmulator, phone: string): Promise<string> {
  const created = await daemon.api("POST", "/v1/accounts", { name: `bench ${phone}` });
  if (created.status !== 201) throw new Error(`create account: ${JSON.stringify(created.body)}`);
  const id = created.body.id as string;
  const qr = await daemon.api("GET", `/v1/accounts/${id}/qr`);
  if (qr.status !== 200) throw new Error(`qr: ${JSON.stringify(qr.body)}`);
  emu.scanQr(qr.body.qr, { phone });
  await waitUntil(async () => (await daemon.api("GET", `/v1/accounts/${id}`)).body.state === "open", 20_000, "account open");
  return id;
}


/** Sum of `wahook_messages_ingested_total` in /metrics: messages stored since start. */
export async function ingestedCount(daemon: BenchDaemon): Promise<number> {
  const res = await fetch(`${daemon.url}/metrics`, { headers: { authorization: `Bearer ${BENCH_KEY}` } });
  const text = await res.text();
  let n = 0;
  for (const m of text.matchAll(/^wahook_messages_ingested_total\{[^}]*\} (\d+)$/gm)) n += Number(m[1]);
  return n;
}
