// `wahook doctor` as an admin runs it (a child process, its output and exit code) against
// the loopback emulator: all good, a data folder others can read, WhatsApp unreachable,
// TLS with and without a trusted certificate; and the clock check's thresholds.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { checkClock, checkDns, checkOpenFiles } from "../src/doctor.ts";
import { insertAccount } from "../src/store/accounts.ts";
import { openStore } from "../src/store/db.ts";
import { writeCreds } from "../src/store/waAuth.ts";
import { startEmulator, type StartedEmulator } from "./wa-emulator/emulator.ts";
import { ROOT_PUBLIC_KEY_HEX } from "./wa-emulator/noise.ts";
import { tempDir } from "./support/app.ts";

const CLI = join(import.meta.dir, "..", "src", "cli.ts");

let emu: StartedEmulator;
let work: string;
const paired: unknown[] = [];
beforeAll(async () => {
  emu = await startEmulator({ seed: "doctor", tls: true, history: { enabled: false } });
  emu.on("paired", (e) => paired.push(e));
  work = tempDir("wahook-doctor-");
  writeFileSync(join(work, "emulator-ca.pem"), emu.ca!);
});
afterAll(async () => {
  await emu.close();
  rmSync(work, { recursive: true, force: true });
});

/** Runs `wahook doctor` in an empty folder with only these settings (through `prefix`, e.g. prlimit). */
async function doctor(env: Record<string, string>, prefix: string[] = []) {
  const proc = Bun.spawn([...prefix, "bun", CLI, "doctor"], {
    cwd: work,
    env: { PATH: process.env.PATH ?? "", HOME: work, WAHOOK_WA_ROOT_KEY: ROOT_PUBLIC_KEY_HEX, WAHOOK_WA_MEDIA_URL: emu.mediaUrl, ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  const lines = stdout.trimEnd().split("\n");
  const line = (check: string) => lines.find((l) => l.slice(6).startsWith(check)) ?? `(no ${check} line in:\n${stdout}${stderr})`;
  return { lines, line, stderr, code };
}

const dataDir = (name: string) => join(work, name);

test("against the emulator every check passes, exit 0, and nothing is paired", async () => {
  const before = emu.accounts.size;
  const res = await doctor({ WAHOOK_DATA_DIR: dataDir("fresh"), WAHOOK_WA_URL: emu.url });
  expect(res.code).toBe(0);
  expect(res.line("data folder")).toBe(`ok    data folder ${dataDir("fresh")} (created, 0700, writable)`);
  expect(res.line("database")).toMatch(/^ok    database .*wahook\.db \(opens, \d+ migrations applied\)$/);
  expect(res.line("clock")).toMatch(/^ok    clock /);
  expect(res.line("dns")).toBe("ok    dns 127.0.0.1 (an IP address, nothing to resolve)");
  expect(res.line("tls")).toMatch(/^skip  tls 127\.0\.0\.1:\d+: ws:\/\/ is plain/);
  expect(res.line("whatsapp")).toMatch(/^ok    whatsapp ws:\/\/127\.0\.0\.1:\d+\/ws\/chat: Noise handshake done, WhatsApp offered pairing \(nothing was paired\), \d+ ms$/);
  expect(res.lines.at(-1)).toBe("all checks passed");
  expect(statSync(dataDir("fresh")).mode & 0o777).toBe(0o700);
  expect({ paired, accounts: emu.accounts.size }).toEqual({ paired: [], accounts: before });
});

test("a data folder other users can read fails with the chmod to run, and is left as it was", async () => {
  const dir = dataDir("loose");
  mkdirSync(dir);
  chmodSync(dir, 0o755);
  const res = await doctor({ WAHOOK_DATA_DIR: dir, WAHOOK_WA_URL: emu.url });
  expect(res.code).toBe(1);
  expect(res.line("data folder")).toBe(`FAIL  data folder ${dir} has mode 0755; other users can read WhatsApp credentials — run: chmod 700 ${dir}`);
  expect(res.line("whatsapp")).toStartWith("ok    ");
  expect(res.lines.at(-1)).toBe("1 of 7 checks failed");
  expect(statSync(dir).mode & 0o777).toBe(0o755);
});

test("WhatsApp unreachable (a closed port): the handshake fails, exit 1", async () => {
  const closed = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = closed.port;
  closed.stop(true);
  const res = await doctor({ WAHOOK_DATA_DIR: dataDir("unreachable"), WAHOOK_WA_URL: `ws://127.0.0.1:${port}/ws/chat` });
  expect(res.code).toBe(1);
  expect(res.line("whatsapp")).toBe(
    `FAIL  whatsapp ws://127.0.0.1:${port}/ws/chat: WebSocket Error (connect ECONNREFUSED 127.0.0.1:${port}) — check outbound access to 127.0.0.1:${port}; a firewall or proxy may block WebSockets`,
  );
});

describe("wss:// (the emulator's self-signed certificate)", () => {
  test("trusted through NODE_EXTRA_CA_CERTS: DNS, TLS and the handshake pass", async () => {
    const res = await doctor({ WAHOOK_DATA_DIR: dataDir("tls"), WAHOOK_WA_URL: emu.wssUrl!, NODE_EXTRA_CA_CERTS: join(work, "emulator-ca.pem") });
    expect(res.code).toBe(0);
    expect(res.line("dns")).toMatch(/^ok    dns localhost → /);
    expect(res.line("tls")).toMatch(/^ok    tls localhost:\d+ \(TLSv1\.[23], certificate localhost, valid until .+\)$/);
    expect(res.line("whatsapp")).toStartWith("ok    whatsapp wss://localhost:");
  });

  test("not trusted: TLS fails with what to do about it, and so does the handshake", async () => {
    const res = await doctor({ WAHOOK_DATA_DIR: dataDir("tls"), WAHOOK_WA_URL: emu.wssUrl! });
    expect(res.code).toBe(1);
    expect(res.line("tls")).toMatch(/^FAIL  tls localhost:\d+: .*self.signed.* — outbound port \d+ blocked, or a proxy intercepts TLS/i);
    expect(res.line("whatsapp")).toMatch(/^FAIL  whatsapp wss:\/\/localhost:\d+\/ws\/chat: .*(self.signed|certificate)/i);
  });
});

describe("clock", () => {
  let server: ReturnType<typeof Bun.serve>;
  beforeAll(() => {
    server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("ok") });
  });
  afterAll(() => server.stop(true));

  // Date has whole seconds and Bun stamps it from a cached clock: allow a second or two.
  test.each([
    ["in step", "ok", 0, /^clock in step with 127\.0\.0\.1:\d+ \(within 2 s\)$/],
    ["10 s ahead", "ok", 10_000, /^clock ahead of 127\.0\.0\.1:\d+ by (9|1[0-2]) s$/],
    ["40 s behind", "warn", -40_000, /^clock behind .* by (39|4[0-2]) s — enable NTP/],
    ["2 min ahead", "warn", 2 * 60_000, /^clock ahead of .* by (119|12[0-2]) s — enable NTP/],
    ["an hour behind", "FAIL", -3_600_000, /^clock behind .* by 3[56]\d\d s; WhatsApp refuses clocks this far off — enable NTP/],
  ] as const)("%s → %s", async (_name, status, offsetMs, text) => {
    const check = await checkClock([`http://127.0.0.1:${server.port}/`], 2_000, () => Date.now() + offsetMs);
    expect(check.status).toBe(status);
    expect(check.text).toMatch(text);
  });

  test("a server without a Date header is skipped for the next; none at all fails", async () => {
    const raw = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data: (s) => void s.end("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n") } });
    try {
      const noDate = `http://127.0.0.1:${raw.port}/`;
      expect((await checkClock([noDate, `http://127.0.0.1:${server.port}/`], 2_000)).status).toBe("ok");
      const none = await checkClock([noDate], 2_000);
      expect(none).toEqual({ status: "FAIL", text: `clock: could not read the time from ${noDate}: no Date header — check outbound HTTPS` });
    } finally {
      raw.stop(true);
    }
  });
});

test("a name that does not resolve fails with where to look", async () => {
  const check = await checkDns("wahook-doctor.invalid", 3_000);
  expect(check.status).toBe("FAIL");
  expect(check.text).toStartWith("dns wahook-doctor.invalid: ");
  expect(check.text).toEndWith("— check /etc/resolv.conf or outbound DNS (port 53)");
});

describe("open files", () => {
  const RAISE = "raise it: LimitNOFILE=65536 in the systemd unit, --ulimit nofile=65536:65536 for docker run, ulimit -n in a shell";

  test("the accounts a start would connect, against the room the limit leaves; too many fails with what to set", async () => {
    const dir = dataDir("accounts");
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const store = openStore(join(dir, "wahook.db"));
    for (const name of ["A", "B", "C"]) writeCreds(store, insertAccount(store, { name, email: null }).id, "{}");
    // Never paired (no credentials): a start connects nothing for it.
    insertAccount(store, { name: "D", email: null });
    store.close();

    const roomy = await doctor({ WAHOOK_DATA_DIR: dir, WAHOOK_WA_URL: emu.url });
    expect(roomy.line("open files")).toMatch(/^ok    open files: limit \d+ \(hard \d+\) leaves room for \d+ WhatsApp accounts; 3 paired$/);
    // 50 less 16 for the daemon itself and 32 kept free: room for 2.
    const tight = await doctor({ WAHOOK_DATA_DIR: dir, WAHOOK_WA_URL: emu.url }, ["prlimit", "--nofile=50:50"]);
    expect(tight.line("open files")).toBe(`FAIL  open files: limit 50 (hard 50) leaves room for 2 WhatsApp accounts; 3 paired: 1 would wait as failed (resource_limit) — ${RAISE}`);
    expect(tight.code).toBe(1);
  });

  test("a limit this process raised says from what; an unknown one is skipped", () => {
    const dir = dataDir("no-accounts");
    // 4096 less 16 for the daemon and 410 (a tenth) kept free.
    expect(checkOpenFiles(dir, { soft: 4096, hard: 4096, raisedFrom: 1024 })).toEqual({ status: "ok", text: "open files: limit 4096 (hard 4096, raised from 1024) leaves room for 3670 WhatsApp accounts; 0 paired" });
    expect(checkOpenFiles(dir, { soft: null, hard: null, raisedFrom: null }).status).toBe("skip");
  });
});

