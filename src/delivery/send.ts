// One HTTP attempt. The target's addresses are checked again here, at send time, and a
// plain-http request goes to the very address that was checked (Host header kept), so a
// DNS answer that changes between check and connect cannot reach a refused address.
// Redirects are never followed; the answer's body is read up to 64 KiB and dropped after.
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
  if (/CERT|TLS|SSL|SELF_SIGNED|HOSTNAME/i.test(code)) return { errorClass: "tls", message: `${code}: ${message}` };
  if (/REFUSED|ConnectionRefused|EHOSTUNREACH|ENETUNREACH/i.test(code)) return { errorClass: "connect", message: `${code}: ${message}` };
  if (/ENOTFOUND|EAI_|DNS/i.test(code)) return { errorClass: "dns", message: `${code}: ${message}` };
  return { errorClass: "network", message: code ? `${code}: ${message}` : message };
}

const decoder = new TextDecoder();

async function readExcerpt(response: Response): Promise<string> {
  if (!response.body) return "";
  // The usual answer says how long it is and is short: reading it whole costs a fraction
  // of streaming it chunk by chunk. Not when compressed: the length is then the
  // compressed one, and 64 KiB of gzip can unpack to megabytes.
  const length = Number(response.headers.get("content-length") ?? NaN);
  if (length <= RESPONSE_EXCERPT_BYTES && !response.headers.has("content-encoding")) return decoder.decode(await response.arrayBuffer());
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < RESPONSE_EXCERPT_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    // A receiver answering with megabytes does not get to make us read them.
    reader.cancel().catch(() => {});
  }
  return decoder.decode(Buffer.concat(chunks).subarray(0, RESPONSE_EXCERPT_BYTES));
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
  const headers = { ...input.headers };
  let requestUrl = input.url;
  if (url.protocol === "http:") {
    headers.host = url.host;
    const pinned = new URL(input.url);
    pinned.hostname = target.family === 6 ? `[${target.address}]` : target.address;
    requestUrl = pinned.href;
  }
  try {
    const response = await fetch(requestUrl, {
      method: "POST",
      body: input.body,
      headers,
      redirect: "manual",
      signal: AbortSignal.timeout(timeouts.totalMs),
      timeout: timeouts.idleMs,
    } as RequestInit);
    const excerpt = await readExcerpt(response);
    return done({ kind: "response", status: response.status, retryAfter: response.headers.get("retry-after") }, response.status, response.ok ? null : `HTTP ${response.status}`, excerpt);
  } catch (error) {
    const { errorClass, message } = classify(error);
    return done({ kind: "error", errorClass }, null, message, null);
  }
}
