// One real connection attempt with the client the daemon uses (Baileys' makeWASocket over
// Bun's `ws`), for `wahook doctor`: throwaway credentials, stop at WhatsApp's first answer
// after the Noise handshake (the pairing offer), pair nothing, store nothing.
import makeWASocket, { Browsers, DEFAULT_CONNECTION_CONFIG, initAuthCreds, type SignalKeyStore } from "baileys";
import { silentLogger, type Logger } from "../log.ts";
import { baileysLogger } from "./logger.ts";

/** The web socket URL the daemon connects to: the override, else WhatsApp's own. */
export function whatsappSocketUrl(override: string | null): string {
  return override ?? DEFAULT_CONNECTION_CONFIG.waWebSocketUrl.toString();
}

export interface ProbeResult {
  ok: boolean;
  /** How far it got: no socket, WebSocket upgraded, server hello, handshake done. */
  reached: "nothing" | "websocket" | "server hello" | "handshake";
  detail: string;
  ms: number;
}

/** Keys are never needed before pairing; a map keeps Baileys' interface satisfied. */
function throwawayKeys(): SignalKeyStore {
  const data = new Map<string, unknown>();
  return {
    async get(type, ids) {
      const out: Record<string, never> = {};
      for (const id of ids) if (data.has(`${type}/${id}`)) out[id] = data.get(`${type}/${id}`) as never;
      return out;
    },
    async set(set) {
      for (const [type, byId] of Object.entries(set)) for (const [id, v] of Object.entries(byId ?? {})) data.set(`${type}/${id}`, v);
    },
  };
}

/** Baileys' own warnings and errors, kept to explain a failure. */
function collector(into: string[]): Logger {
  const log: Logger = {
    ...silentLogger,
    warn: (msg) => void into.push(msg),
    error: (msg, fields) => void into.push(errorText(fields) ?? msg),
    child: () => log,
  };
  return log;
}

export async function probeWhatsApp(opts: { url: string | null; timeoutMs: number }): Promise<ProbeResult> {
  const started = Date.now();
  let reached: ProbeResult["reached"] = "nothing";
  const errors: string[] = [];
  const logger = baileysLogger(collector(errors));
  const sock = makeWASocket({
    auth: { creds: initAuthCreds(), keys: throwawayKeys() },
    logger: logger as never,
    browser: Browsers.macOS("Desktop"),
    waWebSocketUrl: whatsappSocketUrl(opts.url),
    connectTimeoutMs: opts.timeoutMs,
    markOnlineOnConnect: false,
  });

  const result = await new Promise<ProbeResult>((resolve) => {
    const done = (ok: boolean, detail: string) => resolve({ ok, reached, detail, ms: Date.now() - started });
    const timer = setTimeout(() => done(false, `no answer within ${Math.round(opts.timeoutMs / 1000)} s`), opts.timeoutMs);
    const finish = (ok: boolean, detail: string) => {
      clearTimeout(timer);
      done(ok, detail);
    };
    sock.ws.on("open", () => (reached = "websocket"));
    sock.ws.on("frame", (frame: unknown) => {
      // The first frame is the raw server hello; frames after the Noise handshake arrive decoded.
      if (frame instanceof Uint8Array) reached = "server hello";
      else reached = "handshake";
    });
    // A refused upgrade comes only as this event; Baileys forwards it but nothing listens,
    // so the socket would just wait for its handshake timeout.
    sock.ws.on("unexpected-response", (_req: unknown, res: { statusCode?: number }) => finish(false, `the server answered the WebSocket upgrade with HTTP ${res?.statusCode ?? "?"} instead of 101`));
    sock.ev.on("connection.update", (update) => {
      if (update.qr) finish(true, "Noise handshake done, WhatsApp offered pairing (nothing was paired)");
      if (update.connection === "close") {
        const error = update.lastDisconnect?.error as { message?: string; output?: { statusCode?: number } } | undefined;
        const code = error?.output?.statusCode;
        const why = [errors.at(-1), error?.message].find((m) => m && m !== "Connection Terminated") ?? error?.message ?? "closed";
        finish(false, code && reached === "handshake" ? `WhatsApp answered and closed with ${code}: ${why}` : why);
      }
    });
  });

  // Let Baileys finish the event it is in (it acknowledges the pairing offer) before ending.
  await Bun.sleep(20);
  sock.ev.removeAllListeners(undefined as never);
  try {
    await sock.end(undefined);
  } catch {}
  try {
    sock.ws.close();
  } catch {}
  return result;
}

function errorText(fields: Record<string, unknown> | undefined): string | null {
  const e = fields?.err ?? fields?.error;
  return typeof e === "string" ? e : null;
}
