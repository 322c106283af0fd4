// Shapes of the history routes (backfills, chats, stored messages), written once with
// Elysia's `t` so validation and the OpenAPI document agree. Plain TypeBox numbers and
// booleans in bodies, as in schemas.ts: "20" is not a rate.
import { Type } from "@sinclair/typebox";
import { t } from "elysia";
import { BACKFILL_STATES, DEFAULT_BACKFILL_RATE_PER_S, MESSAGE_TYPES } from "../domain.ts";
import { NullableTimestamp, oneOf, Timestamp } from "./schemas.ts";

const ChatId = t.String({ minLength: 1, maxLength: 200, examples: ["491701234567@c.us"] });

export const BackfillParams = t.Object({
  id: t.String({ description: "Account id.", examples: ["acc_06H0TJZ8W1M2N3P4Q5R6S7T8V9"] }),
  backfill_id: t.String({ description: "Backfill id.", examples: ["bf_06H0TM3D4E5F6G7H8J9K0M1N2P"] }),
});

export const CreateBackfill = t.Object(
  {
    webhook_ids: t.Optional(
      t.Array(t.String({ minLength: 1 }), {
        minItems: 1,
        maxItems: 50,
        uniqueItems: true,
        description: "Webhooks to send to (default: every webhook that takes this account's messages).",
      }),
    ),
    chat_ids: t.Optional(
      t.Array(ChatId, { minItems: 1, maxItems: 1000, uniqueItems: true, description: "Only these chats (Cooby form, see GET …/chats); default all." }),
    ),
    since: t.Optional(t.String({ description: "Only messages sent at or after this time (ISO 8601).", examples: ["2026-10-01T00:00:00Z"] })),
    until: t.Optional(t.String({ description: "Only messages sent at or before this time (ISO 8601).", examples: ["2026-11-01T00:00:00Z"] })),
    older_per_chat: t.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 1000,
        description: "First ask the phone for up to this many older messages per chat (needs the phone online; about 50 per request).",
      }),
    ),
    rate_per_s: t.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: `Messages per second to each webhook (default ${DEFAULT_BACKFILL_RATE_PER_S}).` })),
    redeliver: t.Optional(Type.Boolean({ description: "Also send messages a webhook already got (live or by an earlier backfill)." })),
  },
  {
    additionalProperties: false,
    examples: [{ chat_ids: ["491701234567@c.us"], since: "2026-10-01T00:00:00Z", rate_per_s: 20 }],
  },
);

export const PatchBackfill = t.Object(
  { rate_per_s: Type.Integer({ minimum: 1, maximum: 1000, description: "New pace, messages per second to each webhook." }) },
  { additionalProperties: false, examples: [{ rate_per_s: 50 }] },
);

const Progress = t.Object({
  total: t.Union([t.Integer(), t.Null()], { description: "(message, webhook) pairs selected; null while planning." }),
  enqueued: t.Integer({ description: "Pairs queued for delivery so far." }),
  skipped: t.Integer({ description: "Pairs not sent because that webhook already got the message." }),
  delivered: t.Integer(),
  failed: t.Integer({ description: "Dead letters (see the webhook's dead-letters)." }),
  pending: t.Integer({ description: "Queued and not yet delivered." }),
  percent: t.Union([t.Number(), t.Null()]),
  eta_s: t.Union([t.Integer(), t.Null()], { description: "Seconds left at this pace; null when unknown or ended." }),
});

const Older = t.Object({
  chat_id: t.String(),
  wanted: t.Integer(),
  received: t.Integer(),
  requests: t.Integer(),
  state: oneOf(["waiting", "requested", "done", "unanswered"]),
});

export const Backfill = t.Object(
  {
    id: t.String(),
    account_id: t.String(),
    state: oneOf(BACKFILL_STATES, {
      description: "`planning` (asking the phone, counting), `running`, `paused`, then `finished`, `cancelled` or `failed`.",
    }),
    auto: t.Boolean({ description: "Started by history sync for webhooks with `include_history`." }),
    webhook_ids: t.Array(t.String()),
    chat_ids: t.Union([t.Array(t.String()), t.Null()]),
    since: NullableTimestamp,
    until: NullableTimestamp,
    older_per_chat: t.Union([t.Integer(), t.Null()]),
    rate_per_s: t.Integer(),
    redeliver: t.Boolean(),
    progress: Progress,
    older: t.Union([t.Array(Older), t.Null()], { description: "Per chat, what was asked of the phone (`older_per_chat`)." }),
    error: t.Union([t.String(), t.Null()]),
    created_at: Timestamp,
    started_at: NullableTimestamp,
    finished_at: NullableTimestamp,
  },
  {
    examples: [
      {
        id: "bf_06H0TM3D4E5F6G7H8J9K0M1N2P",
        account_id: "acc_06H0TJZ8W1M2N3P4Q5R6S7T8V9",
        state: "running",
        auto: false,
        webhook_ids: ["wh_06H0TK2F3M4PQ9QXCGMARXVFNB"],
        chat_ids: null,
        since: "2026-10-01T00:00:00.000Z",
        until: null,
        older_per_chat: null,
        rate_per_s: 20,
        redeliver: false,
        progress: { total: 5000, enqueued: 1210, skipped: 40, delivered: 1200, failed: 0, pending: 10, percent: 24.8, eta_s: 188 },
        older: null,
        error: null,
        created_at: "2026-11-24T10:00:00.000Z",
        started_at: "2026-11-24T10:00:00.200Z",
        finished_at: null,
      },
    ],
  },
);

export const Chat = t.Object(
  {
    id: t.String({ description: "Cooby chat id: `<phone>@c.us` or `<id>@g.us`." }),
    type: oneOf(["individual", "group"]),
    title: t.Union([t.String(), t.Null()], { description: "Group subject; for 1:1 the saved name, else the phone." }),
    wa_name: t.Union([t.String(), t.Null()], { description: "The contact's own WhatsApp name (1:1)." }),
    message_count: t.Integer({ description: "Stored messages." }),
    first_message_at: Timestamp,
    last_message_at: Timestamp,
  },
  {
    examples: [
      {
        id: "491701234567@c.us",
        type: "individual",
        title: "Alice Example",
        wa_name: "Alice",
        message_count: 312,
        first_message_at: "2025-03-02T08:11:00.000Z",
        last_message_at: "2026-11-24T09:58:00.000Z",
      },
    ],
  },
);

const Party = t.Object({ phone: t.Union([t.String(), t.Null()]), wa_name: t.Union([t.String(), t.Null()]), lid: t.Optional(t.String()) });

export const StoredMessage = t.Object(
  {
    id: t.String(),
    chat_id: t.String(),
    type: oneOf(MESSAGE_TYPES),
    direction: oneOf(["received", "sent"]),
    timestamp: t.String({ description: "Unix seconds as a string, as in payloads." }),
    sent_at: Timestamp,
    history: t.Boolean({ description: "Came from history sync rather than live." }),
    sender: Party,
    text: t.Union([t.String(), t.Null()]),
    caption: t.Union([t.String(), t.Null()]),
    file_name: t.Union([t.String(), t.Null()]),
    mime_type: t.Union([t.String(), t.Null()]),
    file_size: t.Union([t.Integer(), t.Null()]),
    quoted_id: t.Union([t.String(), t.Null()]),
  },
  {
    examples: [
      {
        id: "3EB0C431D5A2F0E2B4A1",
        chat_id: "491701234567@c.us",
        type: "chat",
        direction: "received",
        timestamp: "1764000000",
        sent_at: "2025-11-24T16:00:00.000Z",
        history: true,
        sender: { phone: "491701234567", wa_name: "Alice" },
        text: "See you tomorrow",
        caption: null,
        file_name: null,
        mime_type: null,
        file_size: null,
        quoted_id: null,
      },
    ],
  },
);

export const ChatParams = t.Object({
  id: t.String({ description: "Account id.", examples: ["acc_06H0TJZ8W1M2N3P4Q5R6S7T8V9"] }),
  chat_id: ChatId,
});

// Query values are checked one by one and lose their name on the way: x-field keeps it (api/errors.ts).
const Order = t.UnionEnum(["asc", "desc"], { description: "`asc` (default): oldest first, the order a backfill sends them in.", "x-field": "order" } as never);
delete (Order as { default?: unknown }).default;

export const ChatMessagesQuery = t.Object(
  {
    limit: t.Optional(t.Integer({ minimum: 1, maximum: 200, default: 50, description: "Items per page (1-200).", "x-field": "limit" })),
    cursor: t.Optional(t.String({ description: "`next_cursor` of the previous page." })),
    since: t.Optional(t.String({ description: "Sent at or after (ISO 8601).", examples: ["2026-10-01T00:00:00Z"] })),
    until: t.Optional(t.String({ description: "Sent at or before (ISO 8601)." })),
    order: t.Optional(Order),
  },
  { additionalProperties: false },
);
