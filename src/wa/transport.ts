// Process-wide transport overrides for the test emulator. Both are off in production.
import { WA_CERT_DETAILS } from "baileys";

const WHATSAPP_MEDIA = "https://mmg.whatsapp.net";

/**
 * Baileys checks the Noise certificate chain against WA_CERT_DETAILS; the emulator signs
 * with its own root key. A plain exported object, so replacing the key is enough.
 */
export function trustCertificateRoot(publicKeyHex: string): void {
  WA_CERT_DETAILS.PUBLIC_KEY = Buffer.from(publicKeyHex, "hex");
  WA_CERT_DETAILS.SERIAL = 0;
}

let mediaBase: string | null = null;
let patched = false;

/**
 * Baileys downloads media (and history blobs) from https://mmg.whatsapp.net<directPath>
 * with the global fetch, whatever the message's url says; send those to `base` instead.
 */
export function rewriteMediaHost(base: string): void {
  mediaBase = base.replace(/\/$/, "");
  if (patched) return;
  patched = true;
  const original = globalThis.fetch;
  const rewritten = (input: string | URL | Request, init?: RequestInit) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    if (mediaBase && url.startsWith(`${WHATSAPP_MEDIA}/`)) return original(mediaBase + url.slice(WHATSAPP_MEDIA.length), init);
    return original(input as never, init);
  };
  globalThis.fetch = Object.assign(rewritten, original) as typeof fetch;
}
