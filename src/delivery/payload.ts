// The JSON body of one delivery (README "Payload"): Cooby's "Custom Webhook" fields with
// their names and types unchanged, so its users keep their receivers, then wahook's
// additive fields. Keys are written in a fixed order so bodies read the same every time.
import type {
  ChatType,
  Choice,
  DeliveredEventType,
  Direction,
  GeoPoint,
  Message,
  MessageType,
  Party,
  PayloadFormat,
  PollInfo,
  PollVote,
  Reaction,
} from "../domain.ts";

export interface PayloadParty {
  phone: string | null;
  wa_name: string | null;
  /** Present only while the phone behind a WhatsApp LID is unknown (phone is then null). */
  lid?: string;
}

export interface Payload {
  chat_id: string;
  chat_type: ChatType;
  chat_title: string | null;
  sender: PayloadParty;
  participants: PayloadParty[];
  user_phone: string | null;
  user_email: string | null;
  direction: Direction;
  message: {
    id: string;
    type: MessageType;
    text: string | null;
    file_name: string | null;
    file_url: string | null;
    caption: string | null;
    quoted_id: string | null;
    mime_type: string | null;
    file_size: number | null;
    location: GeoPoint | null;
    reaction: Reaction | null;
    // Present only on the kinds they describe (README "Message kinds"):
    poll?: PollInfo;
    poll_vote?: PollVote;
    selected_id?: string | null;
    choices?: Choice[];
    view_once?: true;
  };
  /** Unix seconds as a string, as Cooby sends it. */
  timestamp: string;
  event: DeliveredEventType;
  account_id: string | null;
  history: boolean;
  seq: number;
  /** Only for `format: "raw"` webhooks: the original WhatsApp message. */
  raw?: unknown;
  /** Only on `webhook.test` events. */
  note?: string;
}

export interface PayloadInput {
  event: DeliveredEventType;
  message: Message;
  seq: number;
  format: PayloadFormat;
  account: { id: string | null; phone: string | null; email: string | null };
  /** Download link for the media, or null when there is none. */
  fileUrl: string | null;
  webhookTestNote?: string;
}

// Cooby sends `text` for chat, image, video and documents and leaves it out where the
// message has a field of its own (location, reaction, the vCard) or no words (audio,
// stickers). Kinds Cooby does not describe (replies to buttons, business messages, polls)
// carry the words a person sees in the chat.
const NO_TEXT_TYPES: ReadonlySet<MessageType> = new Set(["audio", "ptt", "sticker", "location", "vcard", "reaction", "revoked", "ciphertext"]);
// WhatsApp lets these carry a caption (a GIF is a video played in a loop).
const CAPTION_TYPES: ReadonlySet<MessageType> = new Set(["image", "video", "gif", "ptv", "document", "pdf", "csv", "doc", "live_location"]);
const DOCUMENT_TYPES: ReadonlySet<MessageType> = new Set(["document", "pdf", "csv", "doc"]);

export function buildPayload(input: PayloadInput): Payload {
  const { message: m, account } = input;
  const caption = CAPTION_TYPES.has(m.type) ? m.caption : null;
  const payload: Payload = {
    chat_id: m.chatId,
    chat_type: m.chatType,
    chat_title: m.chatTitle ?? (m.chatType === "individual" ? phoneOfChat(m.chatId) : null),
    sender: party(m.sender),
    participants: m.participants.map(party),
    user_phone: account.phone,
    user_email: account.email,
    direction: m.direction,
    message: {
      id: m.id,
      type: m.type,
      // Receivers written for Cooby read a media message's words from `text`.
      text: NO_TEXT_TYPES.has(m.type) ? null : (m.text ?? caption),
      file_name: DOCUMENT_TYPES.has(m.type) ? (m.media?.file_name ?? null) : null,
      file_url: input.fileUrl,
      caption,
      quoted_id: m.quotedId,
      mime_type: m.media?.mime_type ?? null,
      file_size: m.media?.file_size ?? null,
      location: m.location && { latitude: m.location.latitude, longitude: m.location.longitude, name: m.location.name },
      reaction: m.reaction && { emoji: m.reaction.emoji, target_id: m.reaction.target_id },
      ...(m.poll ? { poll: m.poll } : {}),
      ...(m.pollVote ? { poll_vote: m.pollVote } : {}),
      ...(m.selectedId !== undefined ? { selected_id: m.selectedId } : {}),
      ...(m.choices?.length ? { choices: m.choices } : {}),
      ...(m.viewOnce ? { view_once: true as const } : {}),
    },
    timestamp: String(Math.floor(m.timestamp)),
    event: input.event,
    account_id: account.id,
    history: m.history,
    seq: input.seq,
  };
  if (input.format === "raw") payload.raw = m.raw ?? null;
  if (input.webhookTestNote !== undefined) payload.note = input.webhookTestNote;
  return payload;
}

/** What a queued delivery's body is made of. */
export interface BodyInput {
  event: DeliveredEventType;
  seq: number;
  /** The row's own body parts as stored (JSON text), for events that are not about a stored message; webhook.test's sample message. */
  data: string | null;
  /** The stored message the row is about, or null. */
  stored: Message | null;
  /** Queued by a backfill. */
  backfill: boolean;
  format: PayloadFormat;
  /** The linked account's own phone and e-mail (user_phone, user_email). */
  contact(accountId: string): { phone: string | null; email: string | null };
  /** Download link of the message's media, or null. */
  fileUrl(message: Message): string | null;
}

/** The exact bytes one delivery sends (and signs). */
export function deliveryBody(input: BodyInput): string {
  const { event, data } = input;
  let message = input.stored;
  // A backfill sends stored messages as history, also those that once arrived live.
  if (message && input.backfill) message = { ...message, history: true };
  else if (event === "webhook.test" && data) message = JSON.parse(data) as Message;
  // Events that are not about one message carry their body parts in the row.
  if (!message) return JSON.stringify({ event, ...(data ? (JSON.parse(data) as object) : {}), seq: input.seq });
  const contact = message.accountId ? input.contact(message.accountId) : { phone: null, email: null };
  const payload = buildPayload({
    event,
    message,
    seq: input.seq,
    format: input.format,
    account: { id: message.accountId || null, ...contact },
    fileUrl: message.media ? input.fileUrl(message) : null,
  });
  return JSON.stringify(payload);
}

function party(p: Party): PayloadParty {
  const out: PayloadParty = { phone: p.phone, wa_name: p.wa_name };
  if (p.phone === null && p.lid) out.lid = p.lid;
  return out;
}

// Cooby titles a 1:1 chat without a saved name by the contact's phone.
function phoneOfChat(chatId: string): string | null {
  const match = /^(\d+)@c\.us$/.exec(chatId);
  return match?.[1] ?? null;
}

const TEST_PHONE = "15550100000"; // a fictional North American number (555-01xx)

/** The sample message a `webhook.test` event carries; `now` in milliseconds. */
export function buildTestMessage(accountId: string | null, now: number): Message {
  const sender: Party = { phone: TEST_PHONE, wa_name: "wahook test" };
  return {
    // A test sent without a linked account has none; the payload's account_id is null then.
    accountId: accountId ?? "",
    id: `WAHOOK-TEST-${now}`,
    chatId: `${TEST_PHONE}@c.us`,
    chatType: "individual",
    chatTitle: "wahook test",
    direction: "received",
    sender,
    participants: [sender],
    type: "chat",
    text: "Test event from wahook. If you can read this, deliveries to this endpoint work.",
    caption: null,
    quotedId: null,
    location: null,
    reaction: null,
    media: null,
    timestamp: Math.floor(now / 1000),
    history: false,
    raw: null,
  };
}
