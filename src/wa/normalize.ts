// WAMessage → domain Message, the Cooby way (README "Payload" and "Message kinds"). Pure:
// everything it needs to know about people and groups comes through NormalizeContext, read
// from our own tables; nothing here asks WhatsApp.
import { proto, type WAMessage, type WAMessageKey } from "baileys";
import type { EventType, GeoPoint, MediaRef, Message, MessageStatusChange, MessageStatusName, MessageType, Party } from "../domain.ts";
import { describe, hidesOnce, kindOf, mediaOf, toNumber, unwrap, type Described } from "./content.ts";
import { isGroupJid, isLid, isPn, mappingOf, personChatId, userOf, type LidMapping } from "./jids.ts";
import { readVote, storedPoll } from "./pollVote.ts";

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
  /** The stored WhatsApp message (its JSON form) with this id in this chat, if any: a vote's poll. */
  storedRaw?(chatId: string, messageId: string): unknown;
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
const Stub = proto.WebMessageInfo.StubType;
/** Calls nobody answered show in the chat as a line of their own. */
const MISSED_CALLS = new Map<number, string>([
  [Stub.CALL_MISSED_VOICE, "missed voice call"],
  [Stub.CALL_MISSED_VIDEO, "missed video call"],
  [Stub.CALL_MISSED_GROUP_VOICE, "missed group voice call"],
  [Stub.CALL_MISSED_GROUP_VIDEO, "missed group video call"],
]);

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

/** What normalization keeps of the content: the description and where it came from. */
type Read = Exclude<Described, { skip: string }>;

function contextInfoOf(content: proto.IMessage, key: keyof proto.IMessage): proto.IContextInfo | null {
  const inner = content[key] as { contextInfo?: proto.IContextInfo | null } | null | undefined;
  return inner && typeof inner === "object" ? (inner.contextInfo ?? null) : null;
}

/**
 * A message the phone kept as a FUTUREPROOF stub (a kind it could not show when it got it)
 * still carries that content, encoded, in futureproofData: read it as the message.
 */
function futureproofContent(msg: WAMessage): proto.IMessage | null {
  const data = msg.futureproofData;
  if (msg.messageStubType !== Stub.FUTUREPROOF || !data?.length) return null;
  try {
    return proto.Message.decode(data);
  } catch {
    return null;
  }
}

/**
 * A message sent to a broadcast list reaches each recipient as `<list>@broadcast` with its
 * sender as participant, and the recipient's phone shows it in the chat with the sender: so
 * does the payload. The user's own broadcasts stay skipped: their key does not say who got them.
 */
function asSeenByRecipient(key: WAMessageKey): WAMessageKey {
  const remote = key.remoteJid;
  if (!remote?.endsWith("@broadcast") || remote === "status@broadcast" || key.fromMe) return key;
  if (!isPn(key.participant) && !isLid(key.participant)) return key;
  // Baileys names the sender's other form in remoteJidAlt when the chat is not a group.
  const k = key as { participantAlt?: string | null; remoteJidAlt?: string | null };
  const alt = k.participantAlt ?? k.remoteJidAlt;
  return { ...key, remoteJid: key.participant, remoteJidAlt: alt ?? undefined, participant: undefined, participantAlt: undefined } as WAMessageKey;
}

export function normalizeMessage(msg: WAMessage, ctx: NormalizeContext, opts: { history: boolean }): Normalized {
  const key = asSeenByRecipient(msg.key);
  const remote = key.remoteJid;
  if (!remote || !key.id) return { kind: "skip", reason: "no chat or id" };
  if (remote === "status@broadcast") return { kind: "skip", reason: "status broadcast" };
  if (remote.endsWith("@newsletter")) return { kind: "skip", reason: "newsletter" };
  if (remote.endsWith("@broadcast")) return { kind: "skip", reason: "broadcast list" };
  const isGroup = isGroupJid(remote);
  const k = key as typeof key & { remoteJidAlt?: string | null; participantAlt?: string | null };

  const mappings = [mappingOf(remote, k.remoteJidAlt), mappingOf(key.participant, k.participantAlt)].filter((m): m is LidMapping => m !== null);
  const phoneOf = (jid: string | null | undefined, alt?: string | null): string | null => {
    if (!jid) return null;
    if (isPn(jid)) return userOf(jid);
    if (isPn(alt)) return userOf(alt);
    for (const m of mappings) if (isLid(jid) && userOf(jid) === m.lid) return m.phone;
    return ctx.phoneOf(jid);
  };
  const nameOf = (phone: string | null) => (phone ? (ctx.savedName(phone) ?? ctx.pushName(phone)) : null);

  // ---- content ------------------------------------------------------------------------
  const unwrapped = unwrap(msg.message ?? futureproofContent(msg));
  let content = unwrapped.content;
  let events: EventType[] = [];
  let read: Read | null = null;
  let type: MessageType | undefined;
  let quotedId: string | null = null;
  let editedTarget: string | null = null;
  let stubText: string | null = null;

  const protocol = content?.protocolMessage;
  if (protocol) {
    if (protocol.type === T.REVOKE) {
      type = "revoked";
      quotedId = protocol.key?.id ?? null;
      events = ["message.revoked"];
      content = null;
    } else if (protocol.type === T.MESSAGE_EDIT && protocol.editedMessage) {
      editedTarget = protocol.key?.id ?? null;
      content = unwrap(protocol.editedMessage).content;
      events = ["message.updated"];
    } else {
      return { kind: "skip", reason: `protocol message ${protocol.type ?? "?"}` };
    }
  }
  const contentKey = content ? kindOf(content) : null;
  if (type === "revoked") {
    // Nothing more to read: the revoke names its target.
  } else if (!content || !contentKey) {
    // Traffic between the user's own devices that this one could not decrypt is protocol
    // (key sharing, app state), not something anyone wrote in a chat.
    if (msg.messageStubType === proto.WebMessageInfo.StubType.CIPHERTEXT && (msg as { category?: string }).category === "peer") {
      return { kind: "skip", reason: "undecryptable peer (own devices) traffic" };
    }
    const stub = msg.messageStubType ?? null;
    if (stub === Stub.CIPHERTEXT) type = "ciphertext";
    else if (stub === Stub.REVOKE || stub === Stub.ADMIN_REVOKE) {
      // History keeps a deleted message as this stub: "This message was deleted".
      type = "revoked";
      quotedId = key.id;
    } else if (stub !== null && MISSED_CALLS.has(stub)) {
      type = "call_log";
      stubText = MISSED_CALLS.get(stub)!;
    } else if (stub && isGroup) return { kind: "skip", reason: "group notification stub" };
    else return { kind: "skip", reason: editedTarget ? "edit without content" : "no content" };
  } else {
    const described = describe(content, contentKey);
    if ("skip" in described) return { kind: "skip", reason: described.skip };
    read = described;
    type = described.type;
  }
  type ??= "unknown";

  // ---- who ----------------------------------------------------------------------------
  const me: Party = { phone: ctx.me.phone, wa_name: ctx.me.name };
  const contactJid = isGroup ? (key.participant ?? null) : remote;
  const contactAlt = isGroup ? k.participantAlt : k.remoteJidAlt;
  const contactPhone = phoneOf(contactJid, contactAlt);
  const contactParty: Party = { phone: contactPhone, wa_name: (!key.fromMe && msg.pushName) || nameOf(contactPhone) };
  if (!contactPhone && isLid(contactJid)) contactParty.lid = userOf(contactJid);
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
      if (!phone && isLid(p.jid)) party.lid = userOf(p.jid);
      return party;
    });
    // Metadata not fetched yet (or a group left long ago): at least the two people known to
    // be in it, so receivers never see an empty list.
    if (!group) participants = key.fromMe ? [me] : [contactParty, me];
  } else {
    const remotePhone = phoneOf(remote, k.remoteJidAlt);
    chatId = personChatId(remotePhone, remote);
    chatTitle = (remotePhone && ctx.savedName(remotePhone)) || remotePhone;
    const other: Party = key.fromMe ? { phone: remotePhone, wa_name: nameOf(remotePhone) } : contactParty;
    if (!remotePhone && isLid(remote)) other.lid = userOf(remote);
    participants = [other, me];
  }

  // ---- fields -------------------------------------------------------------------------
  let media: MediaRef | null = null;
  let location: GeoPoint | null = null;
  let reaction: Message["reaction"] = null;
  let viewOnce = unwrapped.viewOnce && hidesOnce(contentKey);
  if (content && contentKey) {
    const bytes = mediaOf(content);
    viewOnce ||= !!bytes?.field.viewOnce;
    // A linked device cannot open view-once media: the message is delivered, with no file.
    if (bytes && !viewOnce) {
      media = {
        key: `${remote}/${key.id}`,
        mime_type: bytes.field.mimetype ?? null,
        file_size: toNumber(bytes.field.fileLength),
        file_name: bytes.kind === "documentMessage" ? (bytes.field.fileName ?? null) : null,
      };
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

  let text = read?.text ?? stubText;
  let pollVote: Message["pollVote"] = null;
  if (read?.type === "poll_update" && read.vote) {
    const meJids = [ctx.me.phone && `${ctx.me.phone}@s.whatsapp.net`, ctx.me.lid && `${ctx.me.lid}@lid`].filter((j): j is string => !!j);
    const poll = storedPoll(ctx.storedRaw?.(chatId, read.vote.pollId) ?? null, meJids);
    const voters = key.fromMe ? meJids : [key.participant, k.participantAlt, remote, k.remoteJidAlt].filter((j): j is string => !!j && !isGroupJid(j));
    const selected = poll ? readVote(read.vote, poll, voters) : null;
    pollVote = { poll_id: read.vote.pollId, selected_options: selected };
    text = selected?.length ? selected.join(", ") : null;
  }

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
    text,
    caption: read?.caption ?? null,
    quotedId,
    location,
    reaction,
    media,
    ...(read?.poll ? { poll: read.poll } : {}),
    ...(pollVote ? { pollVote } : {}),
    ...(read?.selectedId !== undefined ? { selectedId: read.selectedId } : {}),
    ...(read?.choices?.length ? { choices: read.choices } : {}),
    ...(viewOnce ? { viewOnce } : {}),
    timestamp: toNumber(msg.messageTimestamp) ?? 0,
    history: opts.history,
    raw: jsonSafe(msg),
  };
  const pushNames = !key.fromMe && msg.pushName && contactPhone ? [{ phone: contactPhone, name: msg.pushName }] : [];
  return { kind: "message", message, events: allEvents, mappings, pushNames };
}

// ---- message status (receipts for what the user sent) ------------------------------------

const STATUS_NAMES: Partial<Record<number, MessageStatusName>> = {
  [proto.WebMessageInfo.Status.ERROR]: "error",
  [proto.WebMessageInfo.Status.SERVER_ACK]: "server_ack",
  [proto.WebMessageInfo.Status.DELIVERY_ACK]: "delivered",
  [proto.WebMessageInfo.Status.READ]: "read",
  [proto.WebMessageInfo.Status.PLAYED]: "played",
};

/** The Cooby chat id of a key's chat: `<phone>@c.us`, a group id, or `<lid>@lid` while the phone is unknown. */
function chatIdOf(key: WAMessageKey, ctx: NormalizeContext): string | null {
  const remote = key.remoteJid;
  if (!remote || remote === "status@broadcast" || remote.endsWith("@newsletter") || remote.endsWith("@broadcast")) return null;
  if (isGroupJid(remote)) return remote;
  const alt = (key as { remoteJidAlt?: string | null }).remoteJidAlt;
  const phone = isPn(remote) ? userOf(remote) : isPn(alt) ? userOf(alt) : ctx.phoneOf(remote);
  return personChatId(phone, remote);
}

function party(jid: string, ctx: NormalizeContext): Party {
  const phone = isPn(jid) ? userOf(jid) : ctx.phoneOf(jid);
  const out: Party = { phone, wa_name: phone ? (ctx.savedName(phone) ?? ctx.pushName(phone)) : null };
  if (!phone && isLid(jid)) out.lid = userOf(jid);
  return out;
}

/** A status update of a message (Baileys' messages.update): only the user's own messages have ticks. */
export function messageStatusOf(key: WAMessageKey, status: number | null | undefined, ctx: NormalizeContext, at: number): MessageStatusChange | null {
  const name = status === null || status === undefined ? undefined : STATUS_NAMES[status];
  const chatId = chatIdOf(key, ctx);
  if (!key.fromMe || !key.id || !name || !chatId) return null;
  return { chatId, messageId: key.id, status: name, recipient: null, at };
}

/** One group member's receipt (Baileys' message-receipt.update): the furthest tick it reports. */
export function receiptStatusOf(
  key: WAMessageKey,
  receipt: { userJid?: string | null; receiptTimestamp?: unknown; readTimestamp?: unknown; playedTimestamp?: unknown },
  ctx: NormalizeContext,
): MessageStatusChange | null {
  const chatId = chatIdOf(key, ctx);
  if (!key.fromMe || !key.id || !chatId || !receipt.userJid) return null;
  const played = toNumber(receipt.playedTimestamp);
  const read = toNumber(receipt.readTimestamp);
  const delivered = toNumber(receipt.receiptTimestamp);
  const [status, at] = played ? (["played", played] as const) : read ? (["read", read] as const) : delivered ? (["delivered", delivered] as const) : [null, 0];
  if (!status) return null;
  return { chatId, messageId: key.id, status, recipient: party(receipt.userJid, ctx), at };
}
