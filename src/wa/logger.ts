// Baileys wants a pino-like logger. pino transports crash the compiled binary, so this is
// a small adapter onto our JSON logger; Baileys' chatter below `warn` is dropped.
import type { Logger } from "../log.ts";

export interface BaileysLogger {
  level: string;
  child(bindings: Record<string, unknown>): BaileysLogger;
  trace(...args: unknown[]): void;
  debug(...args: unknown[]): void;
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
  fatal(...args: unknown[]): void;
}

function split(args: unknown[]): { msg: string; fields: Record<string, unknown> } {
  const [first, second] = args;
  if (typeof first === "string") return { msg: first, fields: {} };
  const fields = first && typeof first === "object" ? { ...(first as Record<string, unknown>) } : {};
  // Baileys sometimes logs whole nodes, keys or creds: keep only scalar fields.
  for (const [k, v] of Object.entries(fields)) {
    if (v instanceof Error) fields[k] = v.message;
    else if (typeof v === "object" && v !== null) delete fields[k];
  }
  return { msg: typeof second === "string" ? second : "event", fields };
}

/**
 * Baileys reports every stream error at `error`, including the restart WhatsApp asks for
 * after every successful pairing (515), and warns about things that happen in every normal
 * pairing. The session's own lines say what each close means and what happens next; these
 * are detail.
 */
const DETAIL_ONLY = new Set([
  "stream errored out",
  // Right after a pairing the account's own name is not known yet; nothing is wrong.
  "no name present, ignoring presence update request...",
  // After a first login Baileys waits up to 20 s for history and goes on without it when
  // the phone sends none in time; what comes later is still stored. A thousand pairings,
  // a thousand warnings about nothing.
  "Timeout in AwaitingInitialSync, forcing state to Online and flushing buffer",
  // Its keep-alive timer firing on a socket that just closed (every account of a mass disconnect).
  "keep alive called when WS not open",
]);

export function baileysLogger(log: Logger, bindings: Record<string, unknown> = {}): BaileysLogger {
  const at = (level: "warn" | "error") => (...args: unknown[]) => {
    const { msg, fields } = split(args);
    log[DETAIL_ONLY.has(msg) ? "debug" : level](`baileys: ${msg}`, { ...bindings, ...fields });
  };
  return {
    level: "warn",
    child: (more) => baileysLogger(log, { ...bindings, ...more }),
    trace: () => {},
    debug: () => {},
    info: () => {},
    warn: at("warn"),
    error: at("error"),
    fatal: at("error"),
  };
}
