// Signed, expiring media links: `<media id>.<expiry unix s>.<HMAC-SHA256 base64url>`. The
// link alone grants the download (receivers have no API key), so it names one file, ends,
// and cannot be forged or altered. Pure: the key and clock are passed in.
import { createHmac, timingSafeEqual } from "node:crypto";

const mac = (key: Buffer, body: string) => createHmac("sha256", key).update(body).digest("base64url");

export function signMediaToken(key: Buffer, mediaId: string, expiresAtMs: number): string {
  const body = `${mediaId}.${Math.floor(expiresAtMs / 1000)}`;
  return `${body}.${mac(key, body)}`;
}

export type TokenCheck = { ok: true; mediaId: string } | { ok: false; reason: "malformed" | "bad_signature" | "expired" };

export function verifyMediaToken(key: Buffer, token: string, nowMs: number): TokenCheck {
  const m = /^([a-z]+_[0-9A-Z]{26})\.(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!m) return { ok: false, reason: "malformed" };
  const [, mediaId, exp, sig] = m as unknown as [string, string, string, string];
  const expected = Buffer.from(mac(key, `${mediaId}.${exp}`));
  const given = Buffer.from(sig);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return { ok: false, reason: "bad_signature" };
  if (Number(exp) * 1000 < nowMs) return { ok: false, reason: "expired" };
  return { ok: true, mediaId };
}
