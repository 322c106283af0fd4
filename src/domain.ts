// Plain types shared by every stage. No imports: Baileys types never leave src/wa/,
// Drizzle rows never leave src/store/; what crosses a stage boundary is defined here.

/** The webhook triggers, and the optional events a webhook may subscribe to. */
export const EVENT_TYPES = [
  "message.received",
  "message.sent",
  "message.updated",
  "message.revoked",
  "message.reaction",
  "backfill.finished",
  "account.status",
  "message.status",
] as const;
export type EventType = (typeof EVENT_TYPES)[number];
/** Sent only by `POST /v1/webhooks/:id/test`, never subscribed to. */
export type DeliveredEventType = EventType | "webhook.test";

/** What `account.status` reports: a linked account's connection changed (README "Operator events"). */
export const ACCOUNT_STATUSES = ["paired", "open", "reconnecting", "logged_out", "conflict", "failed", "stopped"] as const;
export type AccountStatus = (typeof ACCOUNT_STATUSES)[number];

export interface AccountStatusChange {
  status: AccountStatus;
  /** Why, in words (the close reason, the cause of a failure); null for `open`/`paired`. */
  reason: string | null;
  /** WhatsApp's close code, when there was one. */
  code: number | null;
  phone: string | null;
}

/** What `message.status` reports about a message the user sent: WhatsApp's ticks. */
export type MessageStatusName = "server_ack" | "delivered" | "read" | "played" | "error";

export interface MessageStatusChange {
  /** Cooby form, as in message payloads. */
  chatId: string;
  messageId: string;
  status: MessageStatusName;
  /** Whose receipt, in a group (WhatsApp reports per member there); null in 1:1 chats. */
  recipient: Party | null;
  /** Unix seconds of the receipt. */
  at: number;
}

export const ORDERINGS = ["per_chat", "none"] as const;
export type Ordering = (typeof ORDERINGS)[number];

export const FORMATS = ["cooby", "raw"] as const;
export type PayloadFormat = (typeof FORMATS)[number];

export type Direction = "sent" | "received";

/** The trigger a message goes out under: what the user sent, or what they received. */
export function triggerOf(direction: Direction): EventType {
  return direction === "sent" ? "message.sent" : "message.received";
}
export type ChatType = "individual" | "group";

/** Cooby's message types (help.cooby.co "Webhook column definitions"). */
export const MESSAGE_TYPES = [
  "chat",
  "image",
  "video",
  "audio",
  "ptt",
  "sticker",
  "document",
  "pdf",
  "csv",
  "doc",
  "location",
  "live_location",
  "vcard",
  "multi_vcard",
  "revoked",
  "reaction",
  "poll_creation",
  "poll_update",
  "call_log",
  "ciphertext",
  "buttons_response",
  "list_response",
  "template_button_reply",
  "interactive",
  "order",
  "product",
  "payment",
  "event_creation",
  "gif",
  "protocol",
  "e2e_notification",
  "notification_template",
  "group_notification",
  "broadcast_notification",
  // Not in Cooby's list; what wahook names kinds it reads since (README "Message kinds").
  "ptv",
  "buttons",
  "list",
  "interactive_response",
  "sticker_pack",
  "groups_v4_invite",
  "newsletter_admin_invite",
  "newsletter_invite",
  "scheduled_call",
  "unknown",
] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

/** A person as the payload shows them: phone in digits, never a LID. */
export interface Party {
  phone: string | null;
  wa_name: string | null;
  /** Only set while the phone of a LID is not known yet. */
  lid?: string | null;
}

export interface GeoPoint {
  latitude: number;
  longitude: number;
  name: string | null;
}

export interface Reaction {
  emoji: string;
  target_id: string;
}

/** A button, list row or quick reply a business message offers, and the id a reply to it carries. */
export interface Choice {
  id: string | null;
  text: string;
}

export interface PollInfo {
  name: string;
  options: string[];
  /** How many options one voter may pick. */
  selectable_count: number;
}

export interface PollVote {
  /** The poll's message id. */
  poll_id: string;
  /** The options chosen, by name; empty when a vote was taken back; null when the poll is not stored. */
  selected_options: string[] | null;
}

export interface MediaRef {
  /** Where wa/ can fetch the bytes again (opaque to other stages). */
  key: string;
  mime_type: string | null;
  file_size: number | null;
  file_name: string | null;
}

/** A WhatsApp message after normalization: everything the payload needs. */
export interface Message {
  accountId: string;
  /** WhatsApp message id (`key.id`). */
  id: string;
  /** Cooby form: `<phone>@c.us` or `<id>@g.us`. */
  chatId: string;
  chatType: ChatType;
  chatTitle: string | null;
  direction: Direction;
  sender: Party;
  participants: Party[];
  type: MessageType;
  text: string | null;
  caption: string | null;
  quotedId: string | null;
  location: GeoPoint | null;
  reaction: Reaction | null;
  media: MediaRef | null;
  /** Poll creation: question and options. */
  poll?: PollInfo | null;
  /** Poll vote: which poll, which options. */
  pollVote?: PollVote | null;
  /** Button, list or template reply: the id of what was chosen. */
  selectedId?: string | null;
  /** Business messages: the buttons or rows offered. */
  choices?: Choice[] | null;
  /** View-once media: shown once on the phone, never downloadable by a linked device. */
  viewOnce?: boolean;
  /** Unix seconds when the message was sent. */
  timestamp: number;
  /** From history sync or a backfill rather than live. */
  history: boolean;
  /** The original WhatsApp message for `format: "raw"` webhooks (JSON-safe). */
  raw: unknown;
}

/**
 * An account's connection. `failed`: it cannot connect for a reason of this machine's
 * (`problem` says which, e.g. resource_limit); retried by itself.
 */
export const ACCOUNT_STATES = ["pairing", "connecting", "open", "reconnecting", "logged_out", "conflict", "failed", "stopped"] as const;
export type AccountState = (typeof ACCOUNT_STATES)[number];

/** Where one delivery (an outbox row) stands; `failed` is a dead letter. */
export const DELIVERY_STATUSES = ["pending", "in_flight", "delivered", "failed"] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** A backfill plans, runs (or is paused), then ends in one of the last three. */
export const BACKFILL_STATES = ["planning", "running", "paused", "finished", "cancelled", "failed"] as const;
export type BackfillState = (typeof BACKFILL_STATES)[number];

/** A message's media file. `deferred`: history media, downloaded only once a backfill sends its message. */
export const MEDIA_STATUSES = ["deferred", "pending", "ready", "too_large", "failed"] as const;
export type MediaStatus = (typeof MEDIA_STATUSES)[number];

/** A backfill's pace when none is asked for, messages per second per webhook (the hosted product's users feared floods). */
export const DEFAULT_BACKFILL_RATE_PER_S = 20;

/** Why a webhook URL is refused when it is saved (README "Security notes", Webhook targets). */
export type TargetRefusalCode =
  | "target_scheme"
  | "target_too_long"
  | "target_invalid"
  /** Link-local, metadata, unspecified, multicast, reserved: no config allows them. */
  | "target_forbidden"
  /** Loopback or private, refused unless WAHOOK_ALLOW_TARGETS allows it. */
  | "target_private";

/** The answer to "may webhooks go to this URL?" (delivery/targetCheck.ts). */
export type TargetVerdict = { ok: true } | { ok: false; code: TargetRefusalCode; message: string };

/** What one attempt's answer means for its delivery and its endpoint: decided by delivery/policy.ts, written by store/attempts.ts. */
export type AttemptOutcome =
  | { action: "delivered" }
  | { action: "retry"; at: number }
  | { action: "dead" }
  | { action: "pause_endpoint"; until: number; retryAt: number }
  | { action: "disable_endpoint"; reason: string };

export type ApiKeyScope = "admin" | "read";
