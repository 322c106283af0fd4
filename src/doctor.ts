// `wahook doctor`: what an admin runs on a new machine before pairing. One line per check,
// each saying ok or what to fix; exit 1 when any check fails. It creates the data folder
// and database the daemon would create, and otherwise changes nothing: permissions it
// finds too open are reported, not fixed, and the WhatsApp handshake pairs nothing.
import { lookup } from "node:dns/promises";
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from "node:fs";
import { isIP } from "node:net";
import { join } from "node:path";
import { connect as tlsConnect } from "node:tls";
import type { Config } from "./config.ts";
import { accountCapacity, raiseOpenFilesLimit, type OpenFilesLimit } from "./openFiles.ts";
import { countResumable } from "./store/accounts.ts";
import { openStore } from "./store/db.ts";
import { appliedMigrations } from "./store/stats.ts";
import { probeWhatsApp, whatsappSocketUrl } from "./wa/probe.ts";
import { trustCertificateRoot } from "./wa/transport.ts";

export type Status = "ok" | "warn" | "FAIL" | "skip";
export interface Check {
  status: Status;
  text: string;
}

/** Skews WhatsApp tolerates poorly (warn) and ones that break logins and TLS (fail). */
const CLOCK_WARN_MS = 30_000;
const CLOCK_FAIL_MS = 5 * 60_000;
const WHATSAPP_WEB = "https://web.whatsapp.com/";

const ok = (text: string): Check => ({ status: "ok", text });
const fail = (text: string): Check => ({ status: "FAIL", text });
const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

async function within<T>(ms: number, what: string, work: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${Math.round(ms / 1000)} s`)), ms)));
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function checkDataDir(dir: string): Check {
  let created = false;
  try {
    statSync(dir);
  } catch {
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      created = true;
    } catch (e) {
      return fail(`data folder ${dir}: cannot create it (${message(e)}) — create it as the user wahook runs as, or set WAHOOK_DATA_DIR`);
    }
  }
  const st = statSync(dir);
  if (!st.isDirectory()) return fail(`data folder ${dir} is not a directory — point WAHOOK_DATA_DIR at a directory`);
  const mode = (st.mode & 0o777).toString(8).padStart(4, "0");
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) return fail(`data folder ${dir} belongs to uid ${st.uid}, wahook runs as uid ${uid} — run: chown -R ${uid} ${dir}`);
  const probe = join(dir, `.wahook-doctor-${process.pid}`);
  try {
    const fd = openSync(probe, "w", 0o600);
    writeSync(fd, "wahook");
    fsyncSync(fd);
    closeSync(fd);
    if (readFileSync(probe, "utf8") !== "wahook") throw new Error("read back something else");
    unlinkSync(probe);
  } catch (e) {
    return fail(`data folder ${dir} is not writable (${message(e)}) — run: chown -R $(id -u) ${dir} && chmod 700 ${dir}`);
  }
  // Credentials and messages live here: nobody but the owner may read them.
  if ((st.mode & 0o077) !== 0) return fail(`data folder ${dir} has mode ${mode}; other users can read WhatsApp credentials — run: chmod 700 ${dir}`);
  return ok(`data folder ${dir} (${created ? "created, " : ""}${mode}, writable)`);
}

export function checkDatabase(dir: string): Check {
  const file = join(dir, "wahook.db");
  try {
    const store = openStore(file);
    try {
      return ok(`database ${file} (opens, ${appliedMigrations(store).length} migrations applied)`);
    } finally {
      store.close();
    }
  } catch (e) {
    return fail(`database ${file}: ${message(e)} — check the data folder above, free disk space, or restore a backup`);
  }
}

/** Handles a daemon holds before its first account (measured on the compiled binary: 12), rounded up. */
const DAEMON_BASE_HANDLES = 16;
const RAISE_LIMIT = "raise it: LimitNOFILE=65536 in the systemd unit, --ulimit nofile=65536:65536 for docker run, ulimit -n in a shell";

/**
 * Every account holds one open file (its socket) and a few hundred more stay free for
 * everything else (openFiles.ts): the accounts a start would connect against the room the
 * limit leaves. This process's limit: the service's own is what LimitNOFILE or --ulimit set.
 */
export function checkOpenFiles(dir: string, limit: OpenFilesLimit = raiseOpenFilesLimit()): Check {
  if (limit.soft === null) return { status: "skip", text: "open files: this platform does not say what the limit is" };
  let accounts = 0;
  try {
    const store = openStore(join(dir, "wahook.db"));
    try {
      accounts = countResumable(store);
    } finally {
      store.close();
    }
  } catch {
    // The database check reports what is wrong with it.
  }
  const room = accountCapacity(limit.soft, DAEMON_BASE_HANDLES);
  const raised = limit.raisedFrom === null ? "" : `, raised from ${limit.raisedFrom}`;
  const text = `open files: limit ${limit.soft} (hard ${limit.hard ?? "unlimited"}${raised}) leaves room for ${room} WhatsApp accounts; ${accounts} paired`;
  if (accounts > room) return fail(`${text}: ${accounts - room} would wait as failed (resource_limit) — ${RAISE_LIMIT}`);
  if (accounts > room * 0.8) return { status: "warn", text: `${text}: little room to pair more — ${RAISE_LIMIT}` };
  return ok(text);
}

export async function checkDns(host: string, timeoutMs: number): Promise<Check> {
  if (isIP(host)) return ok(`dns ${host} (an IP address, nothing to resolve)`);
  try {
    const addresses = await within(timeoutMs, "lookup", lookup(host, { all: true }));
    return ok(`dns ${host} → ${addresses.map((a) => a.address).join(", ")}`);
  } catch (e) {
    return fail(`dns ${host}: ${message(e)} — check /etc/resolv.conf or outbound DNS (port 53)`);
  }
}

export async function checkTls(url: URL, timeoutMs: number): Promise<Check> {
  if (url.protocol !== "wss:") return { status: "skip", text: `tls ${url.host}: ${url.protocol}// is plain, nothing to check (test emulator)` };
  const port = Number(url.port || 443);
  const host = url.hostname;
  const socket = tlsConnect({ host, port, servername: isIP(host) ? undefined : host });
  try {
    const cert = await within(
      timeoutMs,
      "TLS handshake",
      new Promise<{ protocol: string | null; subject: string; validTo: string }>((resolve, reject) => {
        socket.once("secureConnect", () => {
          const peer = socket.getPeerCertificate();
          resolve({ protocol: socket.getProtocol(), subject: [peer?.subject?.CN ?? "?"].flat().join(", "), validTo: peer?.valid_to ?? "?" });
        });
        socket.once("error", reject);
      }),
    );
    return ok(`tls ${host}:${port} (${cert.protocol}, certificate ${cert.subject}, valid until ${cert.validTo})`);
  } catch (e) {
    return fail(`tls ${host}:${port}: ${message(e)} — outbound port ${port} blocked, or a proxy intercepts TLS (its CA would go in NODE_EXTRA_CA_CERTS)`);
  } finally {
    socket.destroy();
  }
}

/** The server's Date header against our clock; the header has whole seconds. */
export async function checkClock(sources: string[], timeoutMs: number, now: () => number = Date.now): Promise<Check> {
  const tried: string[] = [];
  for (const source of sources) {
    try {
      const before = now();
      // GET, not HEAD: some servers (Bun's among them) leave Date out of HEAD answers.
      const res = await fetch(source, { redirect: "manual", signal: AbortSignal.timeout(timeoutMs) });
      const after = now();
      await res.body?.cancel();
      const date = res.headers.get("date");
      if (!date || Number.isNaN(Date.parse(date))) {
        tried.push(`${source}: no Date header`);
        continue;
      }
      const skew = (before + after) / 2 - (Date.parse(date) + 500);
      const host = new URL(source).host;
      // Date has whole seconds and servers stamp it once a second: below 2 s is noise.
      if (Math.abs(skew) < 2_000) return ok(`clock in step with ${host} (within 2 s)`);
      const off = `${skew >= 0 ? "ahead of" : "behind"} ${host} by ${Math.round(Math.abs(skew) / 1000)} s`;
      if (Math.abs(skew) <= CLOCK_WARN_MS) return ok(`clock ${off}`);
      const fix = "enable NTP (timedatectl set-ntp true, or chrony)";
      if (Math.abs(skew) <= CLOCK_FAIL_MS) return { status: "warn", text: `clock ${off} — ${fix}` };
      return fail(`clock ${off}; WhatsApp refuses clocks this far off — ${fix}`);
    } catch (e) {
      tried.push(`${source}: ${message(e)}`);
    }
  }
  return fail(`clock: could not read the time from ${tried.join("; ")} — check outbound HTTPS`);
}

export async function checkHandshake(url: string, override: string | null, timeoutMs: number): Promise<Check> {
  const result = await probeWhatsApp({ url: override, timeoutMs });
  if (result.ok) return ok(`whatsapp ${url}: ${result.detail}, ${result.ms} ms`);
  const after = result.reached === "nothing" ? "" : ` (got as far as: ${result.reached})`;
  return fail(`whatsapp ${url}: ${result.detail}${after} — check outbound access to ${new URL(url).host}; a firewall or proxy may block WebSockets`);
}

export function formatCheck(check: Check): string {
  return `${check.status.padEnd(6)}${check.text}`;
}

/** Runs every check in order, writing each line as it completes; resolves to the exit code. */
export async function runDoctor(config: Config, write: (line: string) => void, opts: { timeoutMs?: number } = {}): Promise<number> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const socketUrl = whatsappSocketUrl(config.waUrl);
  const wsUrl = new URL(socketUrl);
  const httpOf = (u: URL) => `${u.protocol === "wss:" ? "https:" : "http:"}//${u.host}/`;
  const clockSources = config.waUrl ? [httpOf(wsUrl), ...(config.waMediaUrl ? [config.waMediaUrl] : [])] : [WHATSAPP_WEB];
  if (config.waRootKey) trustCertificateRoot(config.waRootKey);

  const checks: (() => Check | Promise<Check>)[] = [
    () => checkDataDir(config.dataDir),
    () => checkDatabase(config.dataDir),
    () => checkOpenFiles(config.dataDir),
    () => checkDns(wsUrl.hostname, timeoutMs),
    () => checkTls(wsUrl, timeoutMs),
    () => checkClock(clockSources, timeoutMs),
    () => checkHandshake(socketUrl, config.waUrl, timeoutMs),
  ];
  let failed = 0;
  for (const check of checks) {
    const result = await check();
    if (result.status === "FAIL") failed++;
    write(formatCheck(result));
  }
  write(failed ? `${failed} of ${checks.length} checks failed` : "all checks passed");
  return failed ? 1 : 0;
}
