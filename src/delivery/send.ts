// One HTTP attempt. The target's addresses are checked again here, at send time, and the
// request goes to the very address that was checked (the name kept for Host, and for SNI
// and the certificate check over https), so a DNS answer that changes between check and
// connect cannot reach a refused address. Redirects are never followed; the answer's body
// is read as sent (never unpacked) up to 64 KiB and dropped after.
import type { AllowTargets } from "../config.ts";
import type { AttemptResult, ErrorClass } from "./policy.ts";
import { resolveAndCheck, type Lookup } from "./target.ts";

export const RESPONSE_EXCERPT_BYTES = 64 * 1024;

export interface Timeouts {
  /** Whole attempt, connect to last byte (DELIVERY.md: 15 s). */
  totalMs: number;
  /**
   * Silence on the socket. Bun's fetch has no separate connect timeout, and an idle limit
   * of 5 s would also cut receivers that think for 6 s before answering, which DELIVERY.md
   * allows (15 s in all); so connecting is bounded by the total here.
   */
  idleMs: number;
}

export const DEFAULT_TIMEOUTS: Timeouts = { totalMs: 15_000, idleMs: 15_000 };

export interface SendInput {
  url: string;
  body: string;
  headers: Record<string, string>;
  allow: AllowTargets;
  timeouts?: Timeouts;
  lookup?: Lookup;
  /**
   * Certificate authorities (PEM) to trust instead of the system's. Only tests set it, to
   * trust a throwaway CA of their own; webhooks are sent with the system's store.
   */
  tls?: { ca?: string };
}

export interface SendOutcome {
  result: AttemptResult;
  durationMs: number;
  statusCode: number | null;
  error: string | null;
  excerpt: string | null;
}

function classify(error: unknown): { errorClass: ErrorClass; message: string } {
  const e = error as { name?: string; code?: string | number; message?: string };
  const message = e.message ?? String(error);
  if (e.name === "TimeoutError" || e.name === "AbortError") return { errorClass: "timeout", message: "no complete answer in time" };
  const code = String(e.code ?? "");
  // Bun's messages often start with the code already ("ECONNREFUSED: Unable to connect…").
  const text = !code || message.startsWith(code) ? message : `${code}: ${message}`;
  if (/CERT|TLS|SSL|SELF_SIGNED|HOSTNAME|VERIFY/i.test(code)) return { errorClass: "tls", message: text };
  if (/REFUSED|ConnectionRefused|EHOSTUNREACH|ENETUNREACH/i.test(code)) return { errorClass: "connect", message: text };
  if (/ENOTFOUND|EAI_|DNS/i.test(code)) return { errorClass: "dns", message: text };
  return { errorClass: "network", message: text };
}

const decoder = new TextDecoder();

/**
 * The body as sent, up to one chunk past RESPONSE_EXCERPT_BYTES (so that a longer body can
 * be told apart), then cancelled: a receiver answering with megabytes does not get to make
 * us read them.
 */
async function readRaw(response: Response): Promise<Uint8Array> {
  if (!response.body) return new Uint8Array();
  // The usual answer says how long it is and is short: reading it whole costs a fraction
  // of streaming it chunk by chunk. Nothing is unpacked, so the length is what arrives.
  const length = Number(response.headers.get("content-length") ?? NaN);
  if (length <= RESPONSE_EXCERPT_BYTES) return new Uint8Array(await response.arrayBuffer());
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size <= RESPONSE_EXCERPT_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    reader.cancel().catch(() => {});
  }
  return Buffer.concat(chunks);
}

/** Up to 64 KiB of the answer's text; a compressed answer (we asked for none) only by its size. */
async function readExcerpt(response: Response): Promise<string> {
  const raw = await readRaw(response);
  const encoding = response.headers.get("content-encoding")?.trim() ?? "";
  if (encoding === "" || encoding.toLowerCase() === "identity") return decoder.decode(raw.subarray(0, RESPONSE_EXCERPT_BYTES));
  const size = raw.byteLength > RESPONSE_EXCERPT_BYTES ? `more than ${RESPONSE_EXCERPT_BYTES}` : String(raw.byteLength);
  // The header is the receiver's text: a few characters of it are enough to say what it was.
  return `[${encoding.slice(0, 32)}-encoded answer of ${size} bytes, not shown]`;
}

/**
 * The request as fetch sees it: the URL holds the checked address, so fetch connects there
 * without resolving the name again; the name goes in Host and, over https, in
 * `tls.serverName`, which Bun uses for SNI and to verify the certificate against.
 */
function pinned(url: URL, target: { address: string; family: 4 | 6 }): { href: string; host: string; serverName: string } {
  const pin = new URL(url);
  pin.hostname = target.family === 6 ? `[${target.address}]` : target.address;
  // An IPv6 literal in a URL is bracketed; as a server name it is the bare address.
  return { href: pin.href, host: url.host, serverName: url.hostname.replace(/^\[(.*)\]$/, "$1") };
}

export async function sendAttempt(input: SendInput): Promise<SendOutcome> {
  const started = performance.now();
  const done = (result: AttemptResult, statusCode: number | null, error: string | null, excerpt: string | null): SendOutcome => ({
    result,
    durationMs: Math.round(performance.now() - started),
    statusCode,
    error,
    excerpt,
  });
  const timeouts = input.timeouts ?? DEFAULT_TIMEOUTS;
  const url = new URL(input.url);
  const target = await resolveAndCheck(url.hostname, input.allow, input.lookup);
  if (!target.ok) {
    const errorClass: ErrorClass = target.code === "target_unresolved" ? "dns" : "blocked_target";
    return done({ kind: "error", errorClass }, null, target.message, null);
  }
  const pin = pinned(url, target);
  try {
    const response = await fetch(pin.href, {
      method: "POST",
      body: input.body,
      // Honest receivers then send the answer uncompressed. Those that compress it anyway
      // are not unpacked (`decompress: false`): Bun would unpack on the one HTTP client
      // thread all requests share, and go on after the body is cancelled, so a small bomb
      // (100 KB of zstd, 3 GB unpacked) stalled every other webhook for seconds.
      headers: { ...input.headers, host: pin.host, "accept-encoding": "identity" },
      decompress: false,
      tls: url.protocol === "https:" ? { ...input.tls, serverName: pin.serverName } : undefined,
      redirect: "manual",
      signal: AbortSignal.timeout(timeouts.totalMs),
      timeout: timeouts.idleMs,
    });
    const excerpt = await readExcerpt(response);
    return done({ kind: "response", status: response.status, retryAfter: response.headers.get("retry-after") }, response.status, response.ok ? null : `HTTP ${response.status}`, excerpt);
  } catch (error) {
    const { errorClass, message } = classify(error);
    return done({ kind: "error", errorClass }, null, message, null);
  }
}
