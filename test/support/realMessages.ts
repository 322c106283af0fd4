// The real message shapes in test/fixtures/real-messages.json, turned into what Baileys
// hands over in `messages.upsert`: a plain envelope (key, timestamp, push name) around a
// decoded proto.Message. The dumps they come from were JSON.stringify'd, so bytes appear
// as base64, {type:"Buffer"} or index-keyed objects and enums as names; fromObject
// restores the proto forms.
import { BufferJSON, proto, type WAMessage } from "baileys";
import fixtures from "../fixtures/real-messages.json" with { type: "json" };

export interface RealMessage {
  name: string;
  kind: string;
  source: string;
  note: string;
  upsert: Record<string, unknown>;
}

export const REAL_MESSAGES = fixtures as RealMessage[];

/** {"0":34,"1":205,…} (a Uint8Array through JSON.stringify) → base64; the rest unchanged. */
function restoreBytes(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(restoreBytes);
  if (value === null || typeof value !== "object") return value;
  const keys = Object.keys(value);
  if (keys.length > 0 && keys.every((k, i) => k === String(i)) && Object.values(value).every((v) => typeof v === "number")) {
    return Buffer.from(Object.values(value) as number[]).toString("base64");
  }
  const buffer = value as { type?: unknown; data?: unknown };
  if (buffer.type === "Buffer") return Array.isArray(buffer.data) ? Buffer.from(buffer.data as number[]).toString("base64") : JSON.parse(JSON.stringify(value), BufferJSON.reviver);
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, restoreBytes(v)]));
}

const KEY_ID = "3EB0FIXTURE0000000";
const CHAT = "491700000009@s.whatsapp.net";

/** The fixture as Baileys would upsert it; a message-only fixture gets a 1:1 key. */
export function asUpsert(fixture: RealMessage): WAMessage {
  const raw = restoreBytes(fixture.upsert) as Record<string, unknown>;
  const info = proto.WebMessageInfo.fromObject({ key: { remoteJid: CHAT, fromMe: false, id: KEY_ID }, messageTimestamp: 1_770_000_000, ...raw });
  // Live upserts are plain envelopes with a decoded message inside.
  return {
    ...(proto.WebMessageInfo.toObject(info, { longs: Number, enums: Number, defaults: false }) as object),
    key: { ...(raw.key as object ?? { remoteJid: CHAT, fromMe: false, id: KEY_ID }) },
    message: info.message ?? undefined,
    messageStubType: info.messageStubType ?? undefined,
    messageStubParameters: info.messageStubParameters ?? undefined,
  } as WAMessage;
}
