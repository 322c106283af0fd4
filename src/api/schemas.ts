// Request and response shapes, written once with Elysia's `t` so validation and the
// OpenAPI document cannot drift apart. Numbers and booleans in JSON bodies use TypeBox's
// plain `Type.*`: Elysia's `t.Integer`/`t.Boolean` would quietly accept "4" or "true",
// and a wrong-typed field must be refused, not guessed.
import { Type } from "@sinclair/typebox";
import { t } from "elysia";
import { ACCOUNT_STATES, DEFAULT_BACKFILL_RATE_PER_S, DELIVERY_STATUSES, EVENT_TYPES, FORMATS, ORDERINGS } from "../domain.ts";

/**
 * An enum of strings. Elysia's UnionEnum carries `default: values[0]`, which Elysia then
 * fills into bodies where the field is absent: a PATCH that omits `ordering` would reset
 * it. Enums here have no default; handlers apply defaults where they mean to.
 */
export function oneOf<const T extends readonly [string, ...string[]]>(values: T, options: { description?: string } = {}) {
  const schema = t.UnionEnum(values, options);
  delete (schema as { default?: unknown }).default;
  return schema;
}

export const ErrorBody = t.Object(
  {
    error: t.Object({
      code: t.String({ description: "Stable machine-readable code from the error catalogue." }),
      message: t.String({ description: "What went wrong and what to do about it." }),
      details: t.Any({ description: "Field-level details (validation), or null." }),
    }),
  },
  {
    examples: [{ error: { code: "validation_failed", message: "body.url: Expected string", details: [{ field: "body.url", message: "Expected string" }] } }],
  },
);

export const errorResponses = {
  400: ErrorBody,
  401: ErrorBody,
  403: ErrorBody,
  404: ErrorBody,
  409: ErrorBody,
  413: ErrorBody,
  415: ErrorBody,
  422: ErrorBody,
  500: ErrorBody,
} as const;

export const IdParams = t.Object({ id: t.String({ description: "Resource id.", examples: ["wh_06H0TK2F3M4PQ9QXCGMARXVFNB"] }) });

export const PageQuery = t.Object(
  {
    limit: t.Optional(t.Integer({ minimum: 1, maximum: 200, default: 50, description: "Items per page (1-200).", "x-field": "limit" })),
    cursor: t.Optional(t.String({ description: "`next_cursor` of the previous page." })),
  },
  { additionalProperties: false },
);

export const page = <T extends ReturnType<typeof t.Object>>(item: T) =>
  t.Object({
    data: t.Array(item),
    next_cursor: t.Union([t.String(), t.Null()], { description: "Pass as `cursor` for the next page; null on the last page." }),
  });

export const Timestamp = t.String({ format: "date-time", examples: ["2026-11-24T10:00:00.000Z"] });
export const NullableTimestamp = t.Union([Timestamp, t.Null()]);

// ---- API keys -------------------------------------------------------------------------

const Scope = oneOf(["admin", "read"], {
  description: "`admin` may change things; `read` may only read (writes answer 403).",
});

export const ApiKey = t.Object({
  id: t.String({ examples: ["key_06H0TK2F3M4PQ9QXCGMARXVFNB"] }),
  name: t.String(),
  scope: Scope,
  prefix: t.String({ description: "First characters of the key, to recognise it.", examples: ["whk_Zk3v9aQ1"] }),
  source: t.String({ description: "`env` (WAHOOK_API_KEY), `generated` (first start) or `api`." }),
  created_at: Timestamp,
  last_used_at: NullableTimestamp,
  revoked_at: NullableTimestamp,
});

export const CreateApiKey = t.Object(
  {
    name: t.String({ minLength: 1, maxLength: 100, examples: ["n8n reader"] }),
    scope: Scope,
  },
  { additionalProperties: false, examples: [{ name: "n8n reader", scope: "read" }] },
);

export const CreatedApiKey = t.Composite([
  ApiKey,
  t.Object({ key: t.String({ description: "The key itself. Shown only in this answer: store it now." }) }),
]);

// ---- Webhooks -------------------------------------------------------------------------

const EventType = oneOf(EVENT_TYPES, { description: "`message.received` and `message.sent` are the two triggers; the others are optional events." },
);

const webhookFields = {
  url: t.String({
    minLength: 1,
    maxLength: 2048,
    description: "http(s) URL the events are POSTed to. Credentials in it are kept but masked in answers.",
    examples: ["https://n8n.example.com/webhook/whatsapp"],
  }),
  events: t.Array(EventType, { minItems: 1, uniqueItems: true, examples: [["message.received", "message.sent"]] }),
  account_ids: t.Union([t.Array(t.String({ minLength: 1 }), { uniqueItems: true }), t.Null()], {
    description: "Only these linked accounts; null (default) for all.",
  }),
  ordering: oneOf(ORDERINGS, {
    description: "`per_chat` (default): one event of a chat at a time, in order. `none`: maximum parallelism.",
  }),
  format: oneOf(FORMATS, {
    description: "`cooby` (default): Cooby-compatible body. `raw`: the same plus the original WhatsApp message.",
  }),
  include_history: Type.Boolean({
    description:
      `Also deliver what history sync brings after a pairing (marked \`history: true\`), through an automatic backfill paced at ${DEFAULT_BACKFILL_RATE_PER_S}/s (change its pace with PATCH …/backfills/{id}).`,
  }),
  max_concurrency: Type.Integer({ minimum: 1, maximum: 64, description: "Requests in flight at once to this endpoint (default 4)." }),
  rate_limit_per_s: t.Union([Type.Integer({ minimum: 1, maximum: 1000 }), t.Null()], {
    description: "At most this many requests per second; null (default) for no limit.",
  }),
  retry_schedule_s: t.Union([t.Array(Type.Integer({ minimum: 1, maximum: 86400 }), { minItems: 1, maxItems: 20 }), t.Null()], {
    description: "Seconds to wait before each retry, overriding the default (5, 300, 1800, 7200, 18000, 36000, 36000); null for the default.",
  }),
  description: t.String({ maxLength: 500 }),
  enabled: Type.Boolean(),
};

export const CreateWebhook = t.Object(
  {
    url: webhookFields.url,
    events: webhookFields.events,
    account_ids: t.Optional(webhookFields.account_ids),
    ordering: t.Optional(webhookFields.ordering),
    format: t.Optional(webhookFields.format),
    include_history: t.Optional(webhookFields.include_history),
    max_concurrency: t.Optional(webhookFields.max_concurrency),
    rate_limit_per_s: t.Optional(webhookFields.rate_limit_per_s),
    retry_schedule_s: t.Optional(webhookFields.retry_schedule_s),
    description: t.Optional(webhookFields.description),
    enabled: t.Optional(webhookFields.enabled),
  },
  {
    additionalProperties: false,
    examples: [{ url: "https://n8n.example.com/webhook/whatsapp", events: ["message.received", "message.sent"], description: "CRM inbox" }],
  },
);

export const PatchWebhook = t.Object(
  {
    url: t.Optional(webhookFields.url),
    events: t.Optional(webhookFields.events),
    account_ids: t.Optional(webhookFields.account_ids),
    ordering: t.Optional(webhookFields.ordering),
    format: t.Optional(webhookFields.format),
    include_history: t.Optional(webhookFields.include_history),
    max_concurrency: t.Optional(webhookFields.max_concurrency),
    rate_limit_per_s: t.Optional(webhookFields.rate_limit_per_s),
    retry_schedule_s: t.Optional(webhookFields.retry_schedule_s),
    description: t.Optional(webhookFields.description),
    enabled: t.Optional(webhookFields.enabled),
  },
  { additionalProperties: false, minProperties: 1, examples: [{ max_concurrency: 8 }] },
);

export const Webhook = t.Object(
  {
    id: t.String({ examples: ["wh_06H0TK2F3M4PQ9QXCGMARXVFNB"] }),
    ...webhookFields,
    account_ids: webhookFields.account_ids,
    disabled_reason: t.Union([t.String(), t.Null()], { description: "Why it was disabled (by an admin, 410 Gone, 5 days of failures)." }),
    disabled_at: NullableTimestamp,
    secret_rotating_until: t.Union([Timestamp, t.Null()], { description: "Until then the previous secret signs too." }),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  {
    examples: [
      {
        id: "wh_06H0TK2F3M4PQ9QXCGMARXVFNB",
        url: "https://***:***@n8n.example.com/webhook/whatsapp",
        events: ["message.received", "message.sent"],
        account_ids: null,
        ordering: "per_chat",
        format: "cooby",
        include_history: false,
        max_concurrency: 4,
        rate_limit_per_s: null,
        retry_schedule_s: null,
        description: "CRM inbox",
        enabled: true,
        disabled_reason: null,
        disabled_at: null,
        secret_rotating_until: null,
        created_at: "2026-11-24T10:00:00.000Z",
        updated_at: "2026-11-24T10:00:00.000Z",
      },
    ],
  },
);

export const WebhookWithSecret = t.Composite([
  Webhook,
  t.Object({
    secret: t.String({
      // whsec_ and 32 random bytes in base64, as Standard Webhooks libraries expect.
      pattern: "^whsec_[A-Za-z0-9+/]{43}=$",
      description: "Signing secret (Standard Webhooks). Shown only by create and rotate-secret: store it now.",
      examples: ["whsec_qAV4l+JoKCeRBfeekvOcFA7J+IqedjIZQukxjJR3hJo="],
    }),
  }),
]);

// ---- Health ---------------------------------------------------------------------------

export const Health = t.Object(
  {
    status: t.Union([t.Literal("ok"), t.Literal("degraded")]),
    version: t.String(),
    uptime_s: t.Number(),
    database: t.Union([t.Literal("ok"), t.Literal("error"), t.Literal("full")], { description: "`full`: the disk holding the data folder refuses writes." }),
    reason: t.Optional(t.String({ description: "Only when degraded: why, and what to do." })),
  },
  { examples: [{ status: "ok", version: "0.1.0", uptime_s: 12.3, database: "ok" }] },
);

// ---- Deliveries -----------------------------------------------------------------------

const IsoTime = (description: string) =>
  t.String({ description: `${description} ISO 8601, e.g. 2026-11-24T10:00:00Z.`, examples: ["2026-11-24T10:00:00Z"] });

export const DeliveryQuery = t.Object(
  {
    status: t.Optional(oneOf(DELIVERY_STATUSES, { description: "Only deliveries in this state (`failed` = dead letters)." })),
    chat_id: t.Optional(t.String({ description: "Only this chat (`<phone>@c.us` or `<id>@g.us`).", examples: ["491701234567@c.us"] })),
    since: t.Optional(IsoTime("Queued at or after this time.")),
    until: t.Optional(IsoTime("Queued at or before this time.")),
    limit: PageQuery.properties.limit,
    cursor: PageQuery.properties.cursor,
  },
  { additionalProperties: false },
);

export const DeadLetterQuery = t.Object({ limit: PageQuery.properties.limit, cursor: PageQuery.properties.cursor }, { additionalProperties: false });

export const DeliveryParams = t.Object({
  id: IdParams.properties.id,
  delivery_id: t.String({ description: "Delivery id (also the `webhook-id` header the receiver got).", examples: ["msg_06H0TK9Q1D2B4XJ8ZC3E5RNWMA"] }),
});

export const Delivery = t.Object(
  {
    id: t.String({ description: "Also the `webhook-id` header: the same on every retry and replay." }),
    webhook_id: t.String(),
    event: t.String(),
    account_id: t.Union([t.String(), t.Null()]),
    chat_id: t.String(),
    seq: t.Integer({ description: "Position in the chat's stream for this webhook." }),
    history: t.Boolean({ description: "Queued by a backfill: stored history, marked `history: true` in its payload (sent after live traffic)." }),
    status: oneOf(DELIVERY_STATUSES),
    attempts: t.Integer(),
    next_attempt_at: t.Union([Timestamp, t.Null()], { description: "When a pending delivery is due." }),
    last_attempt_at: NullableTimestamp,
    last_status_code: t.Union([t.Integer(), t.Null()]),
    last_error: t.Union([t.String(), t.Null()]),
    delivered_at: NullableTimestamp,
    created_at: Timestamp,
  },
  {
    examples: [
      {
        id: "msg_06H0TK9Q1D2B4XJ8ZC3E5RNWMA",
        webhook_id: "wh_06H0TK2F3M4PQ9QXCGMARXVFNB",
        event: "message.received",
        account_id: "acc_06H0TJZ8W1M2N3P4Q5R6S7T8V9",
        chat_id: "491701234567@c.us",
        seq: 42,
        history: false,
        status: "delivered",
        attempts: 1,
        next_attempt_at: null,
        last_attempt_at: "2026-11-24T10:00:00.004Z",
        last_status_code: 200,
        last_error: null,
        delivered_at: "2026-11-24T10:00:00.009Z",
        created_at: "2026-11-24T10:00:00.002Z",
      },
    ],
  },
);

export const Attempt = t.Object({
  attempt: t.Integer(),
  started_at: Timestamp,
  duration_ms: t.Integer(),
  status_code: t.Union([t.Integer(), t.Null()]),
  error_class: t.Union([t.String(), t.Null()], { description: "null on a 2xx; else timeout, connect, dns, tls, network, blocked_target, http…, or internal (a failure on wahook's side, never held against the endpoint)" }),
  error: t.Union([t.String(), t.Null()]),
  response_excerpt: t.Union([t.String(), t.Null()], { description: "The start of the receiver's answer (at most 64 KiB)." }),
  outcome: t.String({ description: "What the policy decided: delivered, retry, pause_endpoint, disable_endpoint, dead_letter." }),
});

export const DeliveryWithAttempts = t.Composite([Delivery, t.Object({ attempt_log: t.Array(Attempt) })]);

export const ReplaySince = t.Object(
  { since: IsoTime("Replay deliveries queued at or after this time."), until: t.Optional(IsoTime("…and at or before this time.")) },
  { additionalProperties: false, examples: [{ since: "2026-11-24T00:00:00Z" }] },
);

export const ReplayResult = t.Object(
  { replayed: t.Integer({ description: "Deliveries put back in the queue (with their original ids)." }) },
  { examples: [{ replayed: 12 }] },
);

export const TestEventResult = t.Object(
  { delivery_id: t.String({ description: "Follow it at GET /v1/webhooks/{id}/deliveries/{delivery_id}." }), status: t.String() },
  { examples: [{ delivery_id: "msg_06H0TK9Q1D2B4XJ8ZC3E5RNWMA", status: "pending" }] },
);

export const QueueStats = t.Object(
  {
    pending: t.Integer(),
    in_flight: t.Integer(),
    delivered: t.Integer({ description: "Delivered and still within retention." }),
    failed: t.Integer({ description: "Dead letters." }),
    oldest_pending_age_s: t.Union([t.Number(), t.Null()], { description: "Age of the oldest undelivered event." }),
    paused_until: t.Union([Timestamp, t.Null()], { description: "The receiver asked us to wait (429/503 with Retry-After)." }),
    failing_since: t.Union([Timestamp, t.Null()], { description: "Every attempt since then failed; 5 days of this disables the webhook." }),
    enabled: t.Boolean(),
    disabled_reason: t.Union([t.String(), t.Null()]),
  },
  {
    examples: [
      { pending: 3, in_flight: 1, delivered: 1520, failed: 0, oldest_pending_age_s: 0.4, paused_until: null, failing_since: null, enabled: true, disabled_reason: null },
    ],
  },
);

// ---- Accounts -------------------------------------------------------------------------

export const CreateAccount = t.Object(
  {
    name: t.String({ minLength: 1, maxLength: 100, description: "A label for this WhatsApp number, e.g. 'Sales'." }),
    email: t.Optional(
      t.Union([t.String({ format: "email", maxLength: 254 }), t.Null()], { description: "Fills `user_email` in payloads (Cooby's field)." }),
    ),
  },
  { additionalProperties: false, examples: [{ name: "Sales", email: "sales@example.com" }] },
);

export const Account = t.Object(
  {
    id: t.String(),
    name: t.String(),
    email: t.Union([t.String(), t.Null()]),
    state: oneOf(ACCOUNT_STATES, {
      description:
        "pairing: waiting for a QR scan or pairing code · connecting/reconnecting: on the way to open · open: messages flow · logged_out: removed from the phone, pair again · conflict: another client took over (restart to take it back) · failed: this machine cannot connect it now, `problem` says why (resource_limit: no file handle free under the open-files limit); retried by itself · stopped: not connected (QR expired or stopped by an admin)",
    }),
    state_since: Timestamp,
    phone: t.Union([t.String(), t.Null()], { description: "The linked number, digits only, once paired." }),
    push_name: t.Union([t.String(), t.Null()]),
    last_disconnect: t.Union([
      t.Object({ code: t.Union([t.Integer(), t.Null()]), reason: t.Union([t.String(), t.Null()]), at: NullableTimestamp }),
      t.Null(),
    ]),
    problem: t.Union(
      [
        t.Object({
          code: t.Union([t.Literal("whatsapp_unreachable"), t.Literal("resource_limit")]),
          message: t.String(),
          cause: t.String({ description: "The underlying error, e.g. getaddrinfo ENOTFOUND web.whatsapp.com." }),
          since: Timestamp,
        }),
        t.Null(),
      ],
      { description: "Why the account cannot connect right now (retried with backoff); null when nothing is wrong." },
    ),
    created_at: Timestamp,
  },
  {
    examples: [
      {
        id: "acc_06H0TJZ8W1M2N3P4Q5R6S7T8V9",
        name: "Sales",
        email: "sales@example.com",
        state: "open",
        state_since: "2026-11-24T10:00:00.000Z",
        phone: "491701234567",
        push_name: "Example GmbH",
        last_disconnect: { code: 515, reason: "restart required (normal after pairing)", at: "2026-11-24T09:59:58.000Z" },
        problem: null,
        created_at: "2026-11-24T09:59:30.000Z",
      },
    ],
  },
);

export const AccountQr = t.Object(
  {
    qr: t.String({
      // Baileys builds it as WhatsApp Web does: the link, then WhatsApp's ref and the device's keys.
      pattern: "^https://wa\\.me/settings/linked_devices#",
      description: "The QR payload (`https://wa.me/settings/linked_devices#ref,keys…`); render it or use png_data_url / GET …/qr.png.",
    }),
    expires_at: Timestamp,
    png_data_url: t.String({ pattern: "^data:image/png;base64,", description: "data:image/png;base64,… — paste into a browser's address bar to scan." }),
  },
  {
    examples: [
      {
        qr: "https://wa.me/settings/linked_devices#2@F2m2N12G6SdbV2sX4XPVHKY9xZfvJCBW,eU9I9sWTpTx3ELkWR/sTualU/wNL19a0q73RAUgAIac=,te1gayj2bvZTS6HX04nOSV1rz5pDd4omo+TjPXaNXPA=,JV2PxL6CpRksWknhGpvU4/HopgIhJB3XYS/zSV9lULQ=,7",
        expires_at: "2026-11-24T10:01:00.000Z",
        png_data_url: "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAVYAAAFWCAYAAAAyr7WDAAAAAklEQVR4AewaftIAABDl…",
      },
    ],
  },
);

export const PairingCodeBody = t.Object(
  {
    phone: t.String({
      pattern: "^\\+?[0-9][0-9 ()-]{5,22}$",
      description: "The WhatsApp number to link, in international form (country code first), e.g. +49 170 1234567.",
    }),
  },
  { additionalProperties: false, examples: [{ phone: "+491701234567" }] },
);

export const PairingCode = t.Object(
  {
    code: t.String({
      // Baileys draws 8 characters from Crockford's alphabet without 0, I, O and U.
      pattern: "^[1-9A-HJ-NP-TV-Z]{8}$",
      description: "8 characters; enter them on the phone: WhatsApp → Linked devices → Link with phone number (it shows them as 4-4).",
    }),
  },
  { examples: [{ code: "J89R8NFQ" }] },
);

export const DeleteAccountQuery = t.Object(
  { purge: t.Optional(t.BooleanString({ description: "Also delete everything the account brought in: its stored messages, their media files, and every delivery of its events (pending ones too) with their attempts." })) },
  { additionalProperties: false },
);
