// What one WhatsApp message says, kind by kind: its payload `type`, the text a person sees
// in the chat, the media bytes behind it (if there are any to download) and the structure
// receivers ask for (poll options, the button or row chosen). Pure. The table in the
// README's "Message kinds" section is this file in words; the real shapes it was built
// from are test/fixtures/real-messages.json.
import { proto } from "baileys";
import type { Choice, MessageType, PollInfo } from "../domain.ts";

type Content = proto.IMessage;
export type Kind = keyof proto.IMessage;

/**
 * Containers around the real content. Baileys' normalizeMessageContent knows most of them
 * but forgets which it opened; a view-once wrapper matters (no download), and it misses
 * botInvokeMessage, lottieStickerMessage and the newer FutureProofMessage containers
 * (questions, bot forwards, group mentions, V4 polls). deviceSentMessage is opened by
 * Baileys for live messages, but a history chunk can still hold one.
 */
const WRAPPERS = [
  "ephemeralMessage",
  "viewOnceMessage",
  "viewOnceMessageV2",
  "viewOnceMessageV2Extension",
  "documentWithCaptionMessage",
  "editedMessage",
  "associatedChildMessage",
  "groupStatusMessage",
  "groupStatusMessageV2",
  "botInvokeMessage",
  "lottieStickerMessage",
  "deviceSentMessage",
  "groupMentionedMessage",
  "botForwardedMessage",
  "botTaskMessage",
  "questionMessage",
  "questionReplyMessage",
  "statusAddYours",
  "limitSharingMessage",
  "pollCreationMessageV4",
  "eventCoverImage",
] as const satisfies readonly Kind[];
const VIEW_ONCE_WRAPPERS = new Set<string>(["viewOnceMessage", "viewOnceMessageV2", "viewOnceMessageV2Extension"]);

export function unwrap(message: Content | null | undefined): { content: Content | null; viewOnce: boolean } {
  let content = message ?? null;
  let viewOnce = false;
  // Nested at most a few deep in practice (ephemeral → view once → …); bounded anyway.
  for (let depth = 0; content && depth < 8; depth++) {
    const wrapper = WRAPPERS.find((w) => (content as Record<string, unknown>)[w]);
    if (!wrapper) break;
    if (VIEW_ONCE_WRAPPERS.has(wrapper)) viewOnce = true;
    content = (content[wrapper] as { message?: Content | null } | null)?.message ?? null;
  }
  return { content, viewOnce };
}

/** Fields that travel next to the content and are never the content themselves. */
const NOT_CONTENT = new Set<string>(["senderKeyDistributionMessage", "messageContextInfo", "fastRatchetKeySenderKeyDistributionMessage"]);
const PLAIN_TEXT = new Set<string>(["conversation", "extendedTextMessage"]);

/**
 * The kind of the content. Several kinds can sit side by side (a template reply next to a
 * `conversation` copy of its text, a poll vote next to a sender key): the specific kind
 * wins over plain text, and keys that only carry crypto material are never the kind.
 */
export function kindOf(content: Content): Kind | null {
  const kinds = Object.keys(content).filter(
    (k) => (content as Record<string, unknown>)[k] != null && !NOT_CONTENT.has(k) && (k === "conversation" || k.includes("Message") || k.includes("Messsage")),
  ) as Kind[];
  return kinds.find((k) => !PLAIN_TEXT.has(k)) ?? kinds[0] ?? null;
}

type MediaField = proto.Message.IImageMessage & { fileName?: string | null; caption?: string | null; ptt?: boolean | null; gifPlayback?: boolean | null; viewOnce?: boolean | null };
export type MediaType = "image" | "video" | "audio" | "document" | "sticker" | "ptv";

const OWN_MEDIA: Partial<Record<Kind, MediaType>> = {
  imageMessage: "image",
  videoMessage: "video",
  ptvMessage: "ptv",
  audioMessage: "audio",
  documentMessage: "document",
  stickerMessage: "sticker",
};

/**
 * Business messages carry their picture, video or file in a header; a carousel's cards each
 * have one, and the first card's is the one shown first.
 */
function headersOf(content: Content): Content[] {
  const t = content.templateMessage;
  const i = content.interactiveMessage;
  const headers = [
    content.buttonsMessage,
    i?.header,
    i?.carouselMessage?.cards?.[0]?.header,
    t?.hydratedTemplate,
    t?.hydratedFourRowTemplate,
    t?.fourRowTemplate,
    content.productMessage?.product?.productImage ? { imageMessage: content.productMessage.product.productImage } : null,
  ];
  return headers.filter((h): h is NonNullable<typeof h> => !!h) as Content[];
}

/**
 * The media bytes of this content, if WhatsApp says where they are: a key to decrypt them
 * and a path or URL to fetch them from. An edit that changes only a caption, a view-once
 * message and a business message without a header have none: no download is queued.
 */
export function mediaOf(content: Content): { kind: Kind; type: MediaType; field: MediaField } | null {
  for (const source of [content, ...headersOf(content)]) {
    for (const [kind, type] of Object.entries(OWN_MEDIA) as [Kind, MediaType][]) {
      const field = (source as Record<string, unknown>)[kind] as MediaField | null | undefined;
      if (field?.mediaKey && (field.directPath || field.url)) return { kind, type, field };
    }
  }
  return null;
}

/**
 * Kinds a view-once wrapper really hides. Bots also wrap buttons, lists and templates in
 * viewOnceMessage only to make them render; the phone shows those (and their header
 * pictures) like any other business message.
 */
const VIEW_ONCE_KINDS = new Set<string>(["imageMessage", "videoMessage", "audioMessage", "ptvMessage"]);
export const hidesOnce = (kind: Kind | null): boolean => kind !== null && VIEW_ONCE_KINDS.has(kind);

export type EncryptedVote = { pollId: string; pollKey: proto.IMessageKey | null; encPayload: Uint8Array; encIv: Uint8Array };

export type Described =
  | {
      kind: Kind;
      type: MessageType;
      text: string | null;
      caption: string | null;
      poll?: PollInfo;
      /** A vote as it arrives: readable only with its poll's secret (normalize.ts). */
      vote?: EncryptedVote;
      selectedId?: string | null;
      choices?: Choice[];
    }
  | { skip: string };

/** Non-empty pieces, one per line: what a person sees of a business message, top to bottom. */
function lines(...parts: (string | null | undefined)[]): string | null {
  const kept = parts.map((p) => p?.trim()).filter((p): p is string => !!p);
  return kept.length ? kept.join("\n") : null;
}

function parseJson(text: string | null | undefined): Record<string, unknown> | null {
  if (!text) return null;
  try {
    const value = JSON.parse(text);
    return value && typeof value === "object" ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
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

const str = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);

/** The buttons of a native-flow message: what each says and the id its reply carries. */
function nativeFlowChoices(buttons: proto.Message.InteractiveMessage.NativeFlowMessage.INativeFlowButton[] | null | undefined): Choice[] {
  const out: Choice[] = [];
  for (const b of buttons ?? []) {
    const params = parseJson(b.buttonParamsJson);
    if (b.name === "single_select") {
      for (const section of (params?.sections as { rows?: { id?: string; title?: string }[] }[] | undefined) ?? []) {
        for (const row of section.rows ?? []) if (row.title) out.push({ id: row.id ?? null, text: row.title });
      }
      continue;
    }
    const text = str(params?.display_text);
    if (text) out.push({ id: str(params?.id) ?? str(params?.url) ?? str(params?.copy_code) ?? str(params?.phone_number), text });
  }
  return out;
}

function templateChoices(t: proto.Message.TemplateMessage.IHydratedFourRowTemplate | null | undefined): Choice[] {
  return (t?.hydratedButtons ?? []).flatMap((b) => {
    const quick = b.quickReplyButton;
    if (quick?.displayText) return [{ id: quick.id ?? null, text: quick.displayText }];
    const url = b.urlButton;
    if (url?.displayText) return [{ id: url.url ?? null, text: url.displayText }];
    const call = b.callButton;
    if (call?.displayText) return [{ id: call.phoneNumber ?? null, text: call.displayText }];
    return [];
  });
}

function pollOf(p: proto.Message.IPollCreationMessage): PollInfo {
  const options = (p.options ?? []).map((o) => o.optionName ?? "");
  // 0 means "any number" in WhatsApp's own encoding.
  return { name: p.name ?? "", options, selectable_count: p.selectableOptionsCount || options.length };
}

const CALL_OUTCOME: Record<number, string> = { 0: "connected", 1: "missed", 2: "failed", 3: "rejected", 4: "accepted elsewhere", 5: "ongoing", 6: "silenced by Do Not Disturb" };

/** Notices and encrypted companions that carry nothing a person reads as a message. */
const SKIPPED: Partial<Record<Kind, string>> = {
  albumMessage: "album header (its photos and videos arrive as messages of their own)",
  groupStatusMentionMessage: "notice: the group was mentioned in a status",
  statusMentionMessage: "notice: a status mentioned the user",
  encCommentMessage: "encrypted comment (needs its post's secret)",
  encReactionMessage: "encrypted reaction (needs its message's secret)",
  encEventResponseMessage: "encrypted event response (needs its event's secret)",
  secretEncryptedMessage: "encrypted edit (needs its message's secret)",
  commentMessage: "comment on a channel post",
  pinInChatMessage: "notice: a message was pinned",
  keepInChatMessage: "notice: a disappearing message was kept",
  placeholderMessage: "placeholder for content only the phone shows",
  messageHistoryNotice: "notice about shared history",
  statusNotificationMessage: "notice about a status",
  senderKeyDistributionMessage: "key distribution only",
  pollResultSnapshotMessage: "channel poll results",
  requestPhoneNumberMessage: "request to share the phone number (nothing to show)",
  protocolMessage: "protocol message",
  pollResultSnapshotMessageV3: "channel poll results",
  pollCreationOptionImageMessage: "picture of a poll option (the poll arrives on its own)",
  stickerSyncRmrMessage: "sticker sync between the user's devices",
  messageHistoryBundle: "bundle of earlier messages shared with a new group member",
  scheduledCallEditMessage: "notice: a scheduled call was changed or cancelled",
  statusStickerInteractionMessage: "notice: a sticker reaction to a status",
};

const PAYMENT_NOTICE: Partial<Record<Kind, string>> = {
  declinePaymentRequestMessage: "payment request declined",
  cancelPaymentRequestMessage: "payment request cancelled",
  paymentInviteMessage: "invitation to send payments",
};

function templateText(t: proto.Message.ITemplateMessage | null | undefined): string | null {
  const h = t?.hydratedTemplate ?? t?.hydratedFourRowTemplate;
  const four = t?.fourRowTemplate;
  return (
    lines(h?.hydratedTitleText, h?.hydratedContentText, h?.hydratedFooterText) ??
    lines(four?.content?.namespace, four?.footer?.namespace) ??
    lines(t?.interactiveMessageTemplate?.body?.text, t?.interactiveMessageTemplate?.footer?.text)
  );
}

export function describe(content: Content, kind: Kind): Described {
  const skip = SKIPPED[kind];
  if (skip) return { skip };
  const base = (type: MessageType, text: string | null, caption: string | null = null) => ({ kind, type, text, caption });
  switch (kind) {
    case "conversation":
      return base("chat", content.conversation ?? null);
    case "extendedTextMessage":
      return base("chat", content.extendedTextMessage?.text ?? null);
    case "imageMessage":
    case "videoMessage":
    case "ptvMessage":
    case "documentMessage": {
      const m = content[kind] as MediaField;
      const type: MessageType =
        kind === "imageMessage" ? "image" : kind === "ptvMessage" ? "ptv" : kind === "videoMessage" ? (m.gifPlayback ? "gif" : "video") : documentType(m.fileName, m.mimetype);
      // The words are the caption; payload.ts shows them as `text` too, as Cooby does.
      return base(type, null, m.caption || null);
    }
    case "audioMessage":
      return base(content.audioMessage?.ptt ? "ptt" : "audio", null);
    case "stickerMessage":
      return base("sticker", null);
    case "stickerPackMessage":
      return base("sticker_pack", lines(content.stickerPackMessage?.name, content.stickerPackMessage?.publisher));
    case "locationMessage":
      return base("location", null);
    case "liveLocationMessage":
      return base("live_location", null, content.liveLocationMessage?.caption || null);
    case "contactMessage":
      return base("vcard", content.contactMessage?.vcard ?? null);
    case "contactsArrayMessage":
      return base("multi_vcard", content.contactsArrayMessage?.displayName ?? null);
    case "reactionMessage":
      return base("reaction", null);
    case "pollCreationMessage":
    case "pollCreationMessageV2":
    case "pollCreationMessageV3":
    case "pollCreationMessageV5": {
      const poll = pollOf(content[kind] as proto.Message.IPollCreationMessage);
      return { ...base("poll_creation", poll.name), poll };
    }
    case "pollUpdateMessage": {
      const u = content.pollUpdateMessage!;
      const vote = u.vote?.encPayload && u.vote.encIv && u.pollCreationMessageKey?.id ? { pollId: u.pollCreationMessageKey.id, pollKey: u.pollCreationMessageKey, encPayload: u.vote.encPayload, encIv: u.vote.encIv } : undefined;
      return { ...base("poll_update", null), vote };
    }
    case "buttonsResponseMessage": {
      const r = content.buttonsResponseMessage!;
      return { ...base("buttons_response", r.selectedDisplayText ?? null), selectedId: r.selectedButtonId ?? null };
    }
    case "listResponseMessage": {
      const r = content.listResponseMessage!;
      return { ...base("list_response", r.title ?? r.description ?? null), selectedId: r.singleSelectReply?.selectedRowId ?? null };
    }
    case "templateButtonReplyMessage": {
      const r = content.templateButtonReplyMessage!;
      return { ...base("template_button_reply", r.selectedDisplayText ?? null), selectedId: r.selectedId ?? null };
    }
    case "interactiveResponseMessage": {
      const r = content.interactiveResponseMessage!;
      const params = parseJson(r.nativeFlowResponseMessage?.paramsJson);
      const text = str(r.body?.text) ?? str(params?.display_text) ?? str(params?.title) ?? str(params?.description);
      return { ...base("interactive_response", text), selectedId: str(params?.id) ?? null };
    }
    case "buttonsMessage": {
      const b = content.buttonsMessage!;
      const choices = (b.buttons ?? []).flatMap((x) => (x.buttonText?.displayText ? [{ id: x.buttonId ?? null, text: x.buttonText.displayText }] : []));
      return { ...base("buttons", lines(b.text, b.contentText, b.footerText), b.imageMessage?.caption || b.videoMessage?.caption || null), choices };
    }
    case "listMessage": {
      const l = content.listMessage!;
      const choices = (l.sections ?? []).flatMap((s) => (s.rows ?? []).flatMap((r) => (r.title ? [{ id: r.rowId ?? null, text: r.title }] : [])));
      return { ...base("list", lines(l.title, l.description, l.footerText)), choices };
    }
    case "interactiveMessage": {
      const i = content.interactiveMessage!;
      // A carousel: its own words, then each card's, left to right as the phone shows them.
      const cards = i.carouselMessage?.cards ?? [];
      const choices = [i.nativeFlowMessage, ...cards.map((c) => c.nativeFlowMessage)].flatMap((f) => nativeFlowChoices(f?.buttons));
      const text = lines(i.header?.title, i.header?.subtitle, i.body?.text, i.footer?.text, ...cards.flatMap((c) => [c.header?.title, c.header?.subtitle, c.body?.text, c.footer?.text]));
      return { ...base("interactive", text, i.header?.imageMessage?.caption || i.header?.videoMessage?.caption || null), choices };
    }
    case "templateMessage":
    case "highlyStructuredMessage": {
      // A highly structured message is the older template form; its hydrated copy is a template.
      const t = kind === "templateMessage" ? content.templateMessage! : content.highlyStructuredMessage!.hydratedHsm;
      const h = t?.hydratedTemplate ?? t?.hydratedFourRowTemplate;
      const hsm = content.highlyStructuredMessage;
      const text = templateText(t) ?? (hsm ? lines(...(hsm.localizableParams ?? []).map((p) => p.default)) : null);
      return { ...base("notification_template", text), choices: templateChoices(h) };
    }
    case "orderMessage": {
      const o = content.orderMessage!;
      return base("order", lines(o.orderTitle, o.message));
    }
    case "productMessage": {
      const p = content.productMessage!;
      return base("product", lines(p.product?.title, p.product?.description, p.body, p.footer));
    }
    case "eventMessage": {
      const e = content.eventMessage!;
      return base("event_creation", lines(e.name, e.description));
    }
    case "groupInviteMessage": {
      const g = content.groupInviteMessage!;
      return base("groups_v4_invite", lines(g.groupName, g.caption));
    }
    case "newsletterAdminInviteMessage": {
      const n = content.newsletterAdminInviteMessage!;
      return base("newsletter_admin_invite", lines(n.newsletterName, n.caption));
    }
    case "callLogMesssage": {
      const c = content.callLogMesssage!;
      const outcome = CALL_OUTCOME[c.callOutcome ?? -1] ?? null;
      const what = `${c.isVideo ? "video" : "voice"} call${outcome ? `, ${outcome}` : ""}${c.durationSecs ? `, ${c.durationSecs} s` : ""}`;
      return base("call_log", what);
    }
    case "requestPaymentMessage":
    case "sendPaymentMessage":
      return base("payment", content.requestPaymentMessage?.noteMessage?.extendedTextMessage?.text ?? content.sendPaymentMessage?.noteMessage?.extendedTextMessage?.text ?? null);
    case "declinePaymentRequestMessage":
    case "cancelPaymentRequestMessage":
    case "paymentInviteMessage":
      return base("payment", PAYMENT_NOTICE[kind]!);
    case "invoiceMessage":
      return base("payment", lines(content.invoiceMessage?.note) ?? "invoice");
    case "newsletterFollowerInviteMessageV2": {
      const n = content.newsletterFollowerInviteMessageV2!;
      return base("newsletter_invite", lines(n.newsletterName, n.caption));
    }
    case "bcallMessage": {
      const b = content.bcallMessage!;
      const what = b.mediaType === proto.Message.BCallMessage.MediaType.VIDEO ? "video chat" : "voice chat";
      return base("call_log", lines(what, b.caption));
    }
    case "scheduledCallCreationMessage": {
      const c = content.scheduledCallCreationMessage!;
      const at = toNumber(c.scheduledTimestampMs) ?? 0;
      const what = `${c.callType === proto.Message.ScheduledCallCreationMessage.CallType.VIDEO ? "video" : "voice"} call${at > 0 ? ` at ${new Date(at).toISOString()}` : ""}`;
      return base("scheduled_call", lines(c.title, what));
    }
    case "richResponseMessage": {
      // Meta AI's answers: text pieces between tables, code and pictures.
      const parts = (content.richResponseMessage?.submessages ?? []).map((m) => m.messageText);
      return base("chat", lines(...parts));
    }
    case "statusQuestionAnswerMessage":
    case "questionResponseMessage":
    case "statusQuotedMessage":
      // Answers to a question (in a status or a channel) and replies quoting a status: their words.
      return base("chat", (content[kind] as { text?: string | null }).text || null);
    default: {
      // A kind this version does not know yet: delivered if it says something a person can read.
      const text = anyText(content[kind]);
      return text ? base("unknown", text) : { skip: `kind ${String(kind)} carries nothing to show` };
    }
  }
}

/** The first text-like field of an unknown kind (a body, a caption, a title). */
function anyText(value: unknown, depth = 0): string | null {
  if (!value || typeof value !== "object" || depth > 3) return null;
  for (const key of ["text", "caption", "contentText", "title", "name", "description"]) {
    const v = (value as Record<string, unknown>)[key];
    if (typeof v === "string" && v.trim()) return v;
  }
  for (const v of Object.values(value)) {
    const found = anyText(v, depth + 1);
    if (found) return found;
  }
  return null;
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

/** Cooby types .pdf, .csv and .doc(x) documents by that extension; other documents stay `document`. */
export function documentType(fileName: string | null | undefined, mime: string | null | undefined): MessageType {
  for (const [re, type] of DOCUMENT_TYPES) if (fileName && re.test(fileName)) return type;
  for (const [re, type] of DOCUMENT_MIME) if (mime && re.test(mime)) return type;
  return "document";
}
