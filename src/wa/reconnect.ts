// What to do when an account's socket closes (README "Operator events": the states an admin sees).
// Pure: the session applies the decision.

export const BACKOFF_BASE_MS = 1_000;
export const BACKOFF_CAP_MS = 5 * 60_000;
/** A connection that stayed open this long resets the backoff. */
export const STABLE_AFTER_MS = 60_000;
const JITTER = 0.2;

export type CloseDecision =
  /** Reconnect after `delayMs` (0 = at once); `unreachable` when WhatsApp was never reached. */
  | { action: "reconnect"; delayMs: number; reason: string; unreachable?: { cause: string } }
  /** 405: fetch the current WhatsApp Web version, then reconnect after `delayMs`. */
  | { action: "refresh_version"; delayMs: number; reason: string }
  /** 401: the phone removed this device. Wipe credentials; a new pairing is needed. */
  | { action: "logged_out"; reason: string }
  /** 440: another client took over. Stop; reconnecting would fight it in a loop. */
  | { action: "conflict"; reason: string }
  /** Pairing ran out of QR codes nobody scanned (408 before pairing). Stop until asked. */
  | { action: "pairing_expired"; reason: string };

export function backoffMs(failures: number, random: () => number = Math.random): number {
  const base = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, failures - 1));
  return Math.round(base * (1 + JITTER * (2 * random() - 1)));
}

/**
 * `failures` counts consecutive failed connections including this one (1 for the first
 * close after a stable connection); `paired` says whether the account has a registered
 * device (creds.me), which changes what a 408 means.
 */
export function decideOnClose(code: number | undefined, ctx: { failures: number; paired: boolean; random?: () => number; reached?: boolean; message?: string | null }): CloseDecision {
  const delay = () => backoffMs(ctx.failures, ctx.random);
  // A socket that never got a QR or a login from WhatsApp did not fail at pairing or at a
  // session: it never got there (DNS, refused, TLS, a proxy). Baileys reports that as 408
  // or 428 like a timeout, which read as "QR not scanned in time" and stopped pairing.
  if (ctx.reached === false && !PROTOCOL_CODES.has(code ?? 0)) {
    const cause = transportCause(ctx.message ?? null);
    return { action: "reconnect", delayMs: delay(), reason: `cannot reach WhatsApp: ${cause}`, unreachable: { cause } };
  }
  switch (code) {
    case 515:
      return { action: "reconnect", delayMs: 0, reason: "restart required (normal after pairing)" };
    case 401:
      return { action: "logged_out", reason: "logged out from the phone (device removed)" };
    case 440:
      return { action: "conflict", reason: "another client took over this session (connection replaced)" };
    case 405:
      return { action: "refresh_version", delayMs: delay(), reason: "WhatsApp refused this client version" };
    case 408:
      if (!ctx.paired) return { action: "pairing_expired", reason: "the QR code was not scanned in time" };
      return { action: "reconnect", delayMs: delay(), reason: "connection timed out" };
    case 428:
      return { action: "reconnect", delayMs: delay(), reason: "connection closed" };
    case 500:
      return { action: "reconnect", delayMs: delay(), reason: "bad session (500)" };
    case 503:
      return { action: "reconnect", delayMs: delay(), reason: "WhatsApp unavailable (503)" };
    default:
      return { action: "reconnect", delayMs: delay(), reason: code ? `closed with code ${code}` : "network error" };
  }
}

/** Closes that only WhatsApp itself sends: it was reached, whatever came before. */
const PROTOCOL_CODES = new Set([401, 403, 405, 440, 515]);

/** "WebSocket Error (getaddrinfo ENOTFOUND web.whatsapp.com)" → "getaddrinfo ENOTFOUND web.whatsapp.com". */
export function transportCause(message: string | null): string {
  if (!message) return "no answer";
  const wrapped = /^WebSocket Error \((.*)\)$/s.exec(message.trim());
  return (wrapped?.[1] ?? message).trim() || "no answer";
}
