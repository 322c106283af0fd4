// WAMessage → domain Message, the Cooby way (spec/PAYLOAD.md). Pure: everything it needs
// to know about people and groups comes through NormalizeContext, read from our own
// tables; nothing here asks WhatsApp.
import { getContentType, jidDecode, normalizeMessageContent, proto, type WAMessage } from "baileys";
import type { EventType, GeoPoint, MediaRef, Message, MessageType, Party } from "../domain.ts";

export interface NormalizeContext {
  accountId: string;
  /** The linked account itself. */
  me: { phone: string | null; lid: string | null; name: string | null };
  /** Phone digits of a user jid (LID or phone jid) from persisted mappings, or null. */
  phoneOf(jid: string): string | null;
  /** The admin's saved name for a phone (contacts sync), or null. */
  savedName(phone: string): string | null;
  /** The contact's own WhatsApp name, last seen, or null. */
  pushName(phone: string): string | null;
  /** Cached group metadata. */
  group(groupJid: string): { subject: string | null; participants: { jid: string; phone: string | null }[] } | null;
}

export interface LidMapping {
  lid: string;
  phone: string;
}

export type Normalized =
  | {
      kind: "message";
      message: Message;
      /** The trigger (message.received / message.sent) and the optional event it also is. */
      events: EventType[];
      /** LID ↔ phone pairs seen in the key, to persist. */
      mappings: LidMapping[];
      /** Push names seen, to persist. */
      pushNames: { phone: string; name: string }[];
    }
  | { kind: "skip"; reason: string };

const T = proto.Message.ProtocolMessage.Type;

const user = (jid: string | null | undefined) => (jid ? (jidDecode(jid)?.user ?? null) : null);
const isLid = (jid: string | null | undefined): jid is string => !!jid && jid.endsWith("@lid");
const isPn = (jid: string | null | undefined): jid is string => !!jid && jid.endsWith("@s.whatsapp.net");

function mapping(a: string | null | undefined, b: string | null | undefined): LidMapping | null {
  const lid = isLid(a) ? a : isLid(b) ? b : null;
  const pn = isPn(a) ? a : isPn(b) ? b : null;
  const l = user(lid);
  const p = user(pn);
  return l && p ? { lid: l, phone: p } : null;
}

/** Long (protobufjs), number, string or null → number. */
export function toNumber(v: unknown): number | null {
  if (v === null || v === undefined) return null;
  if (typeof v === "number") return v;
  if (typeof v === "string") return Number.isFinite(Number(v)) ? Number(v) : null;
  if (typeof v === "bigint") return Number(v);
  if (typeof v === "object" && "low" in v && "high" in v) {
    const { low, high } = v as { low: number; high: number };
    return high * 2 ** 32 + (low >>> 0);
  }
  return null;
}

interface ProtoClass {
  toObject(message: unknown, options: Record<string, unknown>): unknown;
}
const PROTO_JSON = { longs: Number, enums: String, bytes: String, json: true };

/** The message as plain JSON: bytes as base64, Longs as numbers (for `format: "raw"`). */
export function jsonSafe(value: unknown): unknown {
  // History arrives as decoded protobuf instances: converting those directly is about
  // seven times faster than the JSON round trip below, with the same result.
  if (value instanceof proto.WebMessageInfo) return proto.WebMessageInfo.toObject(value, PROTO_JSON);
  return JSON.parse(
    JSON.stringify(value, function (this: Record<string, unknown>, key, v) {
      // A decoded protobuf message's own toJSON turns Longs into strings before this
      // replacer sees them; convert from the original instead, so sizes and timestamps
      // are numbers whether the message came live (plain envelope) or from history.
      const original = this[key];
      const ctor = (original as { constructor?: Partial<ProtoClass> } | null)?.constructor;
      if (original !== v && typeof ctor?.toObject === "function") return ctor.toObject(original, PROTO_JSON);
      if (v instanceof Uint8Array) return Buffer.from(v).toString("base64");
      if (v && typeof v === "object" && v.type === "Buffer" && Array.isArray(v.data)) return Buffer.from(v.data).toString("base64");
      if (v && typeof v === "object" && "low" in v && "high" in v && "unsigned" in v) return toNumber(v);
      if (typeof v === "bigint") return Number(v);
      return v;
    }),
  );
}

const DOCUMENT_TYPES: [RegExp, MessageType][] = [
  [/\.pdf$/i, "pdf"],
  [/\.csv$/i, "csv"],
  [/\.docx?$/i, "doc"],
];
const DOCUMENT_MIME: [RegExp, MessageType][] = [
  [/^application\/pdf$/i, "pdf"],
  [/^text\/csv$/i, "csv"],
  [/^application\/(msword|vnd\.openxmlformats-officedocument\.wordprocessingml\.document)$/i, "doc"],
];

export function documentType(fileName: string | null | undefined, mime: string | null | undefined): MessageType {
  for (const [re, type] of DOCUMENT_TYPES) if (fileName && re.test(fileName)) return type;
  for (const [re, type] of DOCUMENT_MIME) if (mime && re.test(mime)) return type;
  return "document";
}

const SIMPLE_TYPES: Partial<Record<keyof proto.IMessage, MessageType>> = {
  conversation: "chat",
  extendedTextMessage: "chat",
  imageMessage: "image",
  stickerMessage: "sticker",
  locationMessage: "location",
  liveLocationMessage: "live_location",
  contactMessage: "vcard",
  contactsArrayMessage: "multi_vcard",
  reactionMessage: "reaction",
  pollCreationMessage: "poll_creation",
  pollCreationMessageV2: "poll_creation",
  pollCreationMessageV3: "poll_creation",
  pollUpdateMessage: "poll_update",
  buttonsResponseMessage: "buttons_response",
  listResponseMessage: "list_response",
  templateButtonReplyMessage: "template_button_reply",
  interactiveMessage: "interactive",
  interactiveResponseMessage: "interactive",
  orderMessage: "order",
  productMessage: "product",
  requestPaymentMessage: "payment",
  sendPaymentMessage: "payment",
  eventMessage: "event_creation",
  callLogMesssage: "call_log",
  templateMessage: "notification_template",
};

type Content = proto.IMessage;

function typeOf(content: Content, key: keyof proto.IMessage): MessageType {
  switch (key) {
    case "videoMessage":
      return content.videoMessage?.gifPlayback ? "gif" : "video";
    case "audioMessage":
      return content.audioMessage?.ptt ? "ptt" : "audio";
    case "documentMessage":
      return documentType(content.documentMessage?.fileName, content.documentMessage?.mimetype);
    default:
      return SIMPLE_TYPES[key] ?? "unknown";
  }
}

interface MediaFields {
  mimetype?: string | null;
  fileLength?: unknown;
  fileName?: string | null;
  caption?: string | null;
  contextInfo?: proto.IContextInfo | null;
}

const MEDIA_KEYS = ["imageMessage", "videoMessage", "audioMessage", "documentMessage", "stickerMessage"] as const;

function textOf(content: Content, key: keyof proto.IMessage): string | null {
  if (key === "conversation") return content.conversation ?? null;
  if (key === "extendedTextMessage") return content.extendedTextMessage?.text ?? null;
  const poll = content.pollCreationMessage ?? content.pollCreationMessageV2 ?? content.pollCreationMessageV3;
  if (poll) return poll.name ?? null;
  if (key === "contactMessage") return content.contactMessage?.vcard ?? null;
  if (key === "buttonsResponseMessage") return content.buttonsResponseMessage?.selectedDisplayText ?? null;
  if (key === "listResponseMessage") return content.listResponseMessage?.title ?? null;
  if (key === "templateButtonReplyMessage") return content.templateButtonReplyMessage?.selectedDisplayText ?? null;
  return null;
}

function contextInfoOf(content: Content, key: keyof proto.IMessage): proto.IContextInfo | null {
  const inner = content[key] as { contextInfo?: proto.IContextInfo | null } | null | undefined;
  return inner && typeof inner === "object" ? (inner.contextInfo ?? null) : null;
}

export function normalizeMessage(msg: WAMessage, ctx: NormalizeContext, opts: { history: boolean }): Normalized {
  const key = msg.key;
  const remote = key.remoteJid;
  if (!remote || !key.id) return { kind: "skip", reason: "no chat or id" };
  if (remote === "status@broadcast") return { kind: "skip", reason: "status broadcast" };
  if (remote.endsWith("@newsletter")) return { kind: "skip", reason: "newsletter" };
  if (remote.endsWith("@broadcast")) return { kind: "skip", reason: "broadcast list" };
  const isGroup = remote.endsWith("@g.us");
  const k = key as typeof key & { remoteJidAlt?: string | null; participantAlt?: string | null };

  const mappings = [mapping(remote, k.remoteJidAlt), mapping(key.participant, k.participantAlt)].filter((m): m is LidMapping => m !== null);
  const phoneOf = (jid: string | null | undefined, alt?: string | null): string | null => {
    if (!jid) return null;
    if (isPn(jid)) return user(jid);
    if (isPn(alt)) return user(alt);
    for (const m of mappings) if (isLid(jid) && user(jid) === m.lid) return m.phone;
    return ctx.phoneOf(jid);
  };
  const nameOf = (phone: string | null) => (phone ? (ctx.savedName(phone) ?? ctx.pushName(phone)) : null);

  // ---- content ------------------------------------------------------------------------
  let content = normalizeMessageContent(msg.message);
  let events: EventType[] = [];
  let type: MessageType;
  let quotedId: string | null = null;
  let editedTarget: string | null = null;

  const protocol = content?.protocolMessage;
  if (protocol) {
    if (protocol.type === T.REVOKE) {
      type = "revoked";
      quotedId = protocol.key?.id ?? null;
      events = ["message.revoked"];
    } else if (protocol.type === T.MESSAGE_EDIT && protocol.editedMessage) {
      editedTarget = protocol.key?.id ?? null;
      content = normalizeMessageContent(protocol.editedMessage);
      events = ["message.updated"];
      type = "chat";
    } else {
      return { kind: "skip", reason: `protocol message ${protocol.type ?? "?"}` };
    }
  }
  const contentKey = content ? getContentType(content) : undefined;
  if (!content || !contentKey) {
    // Traffic between the user's own devices that this one could not decrypt is protocol
    // (key sharing, app state), not something anyone wrote in a chat.
    if (msg.messageStubType === proto.WebMessageInfo.StubType.CIPHERTEXT && (msg as { category?: string }).category === "peer") {
      return { kind: "skip", reason: "undecryptable peer (own devices) traffic" };
    }
    if (msg.messageStubType === proto.WebMessageInfo.StubType.CIPHERTEXT) type = "ciphertext";
    else if (msg.messageStubType && isGroup) return { kind: "skip", reason: "group notification stub" };
    else return { kind: "skip", reason: "no content" };
  } else if (contentKey === "senderKeyDistributionMessage" || contentKey === "messageContextInfo") {
    return { kind: "skip", reason: "key distribution only" };
  } else if (!protocol || editedTarget) {
    type = typeOf(content, contentKey);
  }
  type ??= "unknown";

  // ---- who ----------------------------------------------------------------------------
  const me: Party = { phone: ctx.me.phone, wa_name: ctx.me.name };
  const contactJid = isGroup ? (key.participant ?? null) : remote;
  const contactAlt = isGroup ? k.participantAlt : k.remoteJidAlt;
  const contactPhone = phoneOf(contactJid, contactAlt);
  const contactParty: Party = { phone: contactPhone, wa_name: (!key.fromMe && msg.pushName) || nameOf(contactPhone) };
  if (!contactPhone && isLid(contactJid)) contactParty.lid = user(contactJid);
  const sender: Party = key.fromMe ? me : contactParty;

  let chatId: string;
  let chatTitle: string | null;
  let participants: Party[];
  if (isGroup) {
    chatId = remote;
    const group = ctx.group(remote);
    chatTitle = group?.subject ?? null;
    participants = (group?.participants ?? []).map((p) => {
      const phone = p.phone ?? phoneOf(p.jid);
      // The sender's entry carries the same name as `sender` (the push name on this very
      // message is newer than anything stored).
      const wa_name = !phone ? null : phone === ctx.me.phone ? ctx.me.name : phone === contactPhone && !key.fromMe ? contactParty.wa_name : nameOf(phone);
      const party: Party = { phone, wa_name };
      if (!phone && isLid(p.jid)) party.lid = user(p.jid);
      return party;
    });
    // Metadata not fetched yet (or a group left long ago): at least the two people known to
    // be in it, so receivers never see an empty list.
    if (!group) participants = key.fromMe ? [me] : [contactParty, me];
  } else {
    const remotePhone = phoneOf(remote, k.remoteJidAlt);
    chatId = remotePhone ? `${remotePhone}@c.us` : `${user(remote)}@lid`;
    chatTitle = (remotePhone && ctx.savedName(remotePhone)) || remotePhone;
    const other: Party = key.fromMe ? { phone: remotePhone, wa_name: nameOf(remotePhone) } : contactParty;
    if (!remotePhone && isLid(remote)) other.lid = user(remote);
    participants = [other, me];
  }

  // ---- fields -------------------------------------------------------------------------
  let media: MediaRef | null = null;
  let caption: string | null = null;
  let location: GeoPoint | null = null;
  let reaction: Message["reaction"] = null;
  if (content && contentKey) {
    const mediaKey = MEDIA_KEYS.find((m) => m === contentKey);
    if (mediaKey) {
      const m = content[mediaKey] as MediaFields;
      media = {
        key: `${remote}/${key.id}`,
        mime_type: m.mimetype ?? null,
        file_size: toNumber(m.fileLength),
        file_name: mediaKey === "documentMessage" ? (m.fileName ?? null) : null,
      };
      caption = m.caption || null;
    }
    const loc = content.locationMessage ?? content.liveLocationMessage;
    if (loc) location = { latitude: loc.degreesLatitude ?? 0, longitude: loc.degreesLongitude ?? 0, name: (content.locationMessage?.name ?? null) || null };
    if (content.reactionMessage) {
      reaction = { emoji: content.reactionMessage.text ?? "", target_id: content.reactionMessage.key?.id ?? "" };
      events = ["message.reaction"];
    }
    quotedId ??= contextInfoOf(content, contentKey)?.stanzaId ?? null;
  }
  if (editedTarget) quotedId = editedTarget;

  const trigger: EventType = key.fromMe ? "message.sent" : "message.received";
  // Edits are only `message.updated`; everything else goes out under its trigger too
  // (Cooby delivers revokes and reactions as messages of those types).
  const allEvents: EventType[] = editedTarget ? events : [trigger, ...events];

  const message: Message = {
    accountId: ctx.accountId,
    id: key.id,
    chatId,
    chatType: isGroup ? "group" : "individual",
    chatTitle,
    direction: key.fromMe ? "sent" : "received",
    sender,
    participants,
    type,
    text: content && contentKey ? textOf(content, contentKey) : null,
    caption,
    quotedId,
    location,
    reaction,
    media,
    timestamp: toNumber(msg.messageTimestamp) ?? 0,
    history: opts.history,
    raw: jsonSafe(msg),
  };
  const pushNames = !key.fromMe && msg.pushName && contactPhone ? [{ phone: contactPhone, name: msg.pushName }] : [];
  return { kind: "message", message, events: allEvents, mappings, pushNames };
}
