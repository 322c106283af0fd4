// Drizzle tables. drizzle-kit turns changes here into SQL migrations in drizzle/;
// never edit an applied migration, add a new one (`bun run db:generate`).
import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { ACCOUNT_STATES, BACKFILL_STATES, DELIVERY_STATUSES, FORMATS, MEDIA_STATUSES, ORDERINGS } from "../domain.ts";

const now = sql`(cast(unixepoch('subsec') * 1000 as integer))`;

export const apiKeys = sqliteTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    scope: text("scope", { enum: ["admin", "read"] }).notNull(),
    /** First characters of the key, shown in listings and used to find the row. */
    prefix: text("prefix").notNull(),
    /** SHA-256 of the whole key, hex. The key itself is never stored. */
    hash: text("hash").notNull(),
    /** `env` for the key managed through WAHOOK_API_KEY, `api` otherwise. */
    source: text("source", { enum: ["env", "generated", "api"] }).notNull(),
    createdAt: integer("created_at").notNull().default(now),
    lastUsedAt: integer("last_used_at"),
    revokedAt: integer("revoked_at"),
  },
  (t) => [index("api_keys_prefix").on(t.prefix)],
);

export const webhooks = sqliteTable(
  "webhooks",
  {
    id: text("id").primaryKey(),
    url: text("url").notNull(),
    description: text("description").notNull().default(""),
    /** JSON array of event types. */
    events: text("events", { mode: "json" }).$type<string[]>().notNull(),
    /** JSON array of account ids, or null for every account. */
    accountIds: text("account_ids", { mode: "json" }).$type<string[] | null>(),
    ordering: text("ordering", { enum: ORDERINGS }).notNull().default("per_chat"),
    format: text("format", { enum: FORMATS }).notNull().default("cooby"),
    includeHistory: integer("include_history", { mode: "boolean" }).notNull().default(false),
    maxConcurrency: integer("max_concurrency").notNull().default(4),
    /** Requests per second, or null for no limit. */
    rateLimitPerS: integer("rate_limit_per_s"),
    /** JSON array of retry delays in ms overriding the default schedule, or null. */
    retrySchedule: text("retry_schedule", { mode: "json" }).$type<number[] | null>(),
    enabled: integer("enabled", { mode: "boolean" }).notNull().default(true),
    disabledReason: text("disabled_reason"),
    disabledAt: integer("disabled_at"),
    secret: text("secret").notNull(),
    /** The secret before the last rotation; still signs until previousSecretUntil. */
    previousSecret: text("previous_secret"),
    previousSecretUntil: integer("previous_secret_until"),
    /** 429/503 with Retry-After: nothing is sent to this endpoint before this time (ms). */
    pausedUntil: integer("paused_until"),
    /** Start of the current run of failed attempts (null after a success); 5 days → disabled. */
    failingSince: integer("failing_since"),
    createdAt: integer("created_at").notNull().default(now),
    updatedAt: integer("updated_at").notNull().default(now),
  },
);

/** Every WhatsApp message seen, once (unique on account + chat + message id). */
export const messages = sqliteTable(
  "messages",
  {
    rowid: integer("rowid").primaryKey({ autoIncrement: true }),
    accountId: text("account_id").notNull(),
    chatId: text("chat_id").notNull(),
    messageId: text("message_id").notNull(),
    direction: text("direction", { enum: ["sent", "received"] }).notNull(),
    type: text("type").notNull(),
    /** Unix seconds the message was sent. */
    timestamp: integer("timestamp").notNull(),
    history: integer("history", { mode: "boolean" }).notNull(),
    /** The normalized domain Message as JSON: what payloads are built from. */
    data: text("data", { mode: "json" }).notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [
    uniqueIndex("messages_identity").on(t.accountId, t.chatId, t.messageId),
    index("messages_chat_time").on(t.accountId, t.chatId, t.timestamp),
    // Backfills walk an account's messages in time order.
    index("messages_account_time").on(t.accountId, t.timestamp),
    // Placeholders of messages WhatsApp could not decrypt yet, found by id when the
    // content follows (its chat id may read differently by then: LID versus phone).
    index("messages_ciphertext")
      .on(t.accountId, t.messageId)
      .where(sql`type = 'ciphertext'`),
  ],
);

/**
 * History sync notifications whose receipts WhatsApp has (or is about to have), and whose
 * chunk is not stored yet. The row commits before the receipt may leave; the chunk's
 * messages and the row's removal commit together. What a crash leaves here is downloaded
 * and stored again at the next login: WhatsApp never sends a confirmed notification again.
 */
export const historyNotifications = sqliteTable(
  "history_notifications",
  {
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    /** The id of the protocol message that carried the notification. */
    messageId: text("message_id").notNull(),
    syncType: integer("sync_type").notNull(),
    chunkOrder: integer("chunk_order"),
    /** The peer data request an on-demand chunk answers, if any. */
    requestId: text("request_id"),
    /** proto HistorySyncNotification, base64: what downloading the chunk again needs. */
    notification: text("notification").notNull(),
    /** pending: not stored yet; failed: given up on (its link expired), kept to be seen. */
    state: text("state", { enum: ["pending", "failed"] }).notNull(),
    attempts: integer("attempts").notNull().default(0),
    lastError: text("last_error"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.messageId] })],
);

/**
 * The delivery queue: one row per (webhook, event). Every index here is written on each
 * state change of every delivery, so there are only those the hot paths need, partial
 * where most rows would only pass through. Rows, not memory, are the queue: a
 * crash loses nothing that was committed. `ready` marks the rows a worker may claim: with
 * per-chat ordering only the head of each (webhook, chat), so a claim is an index range
 * scan however long a chat's backlog is.
 */
export const outbox = sqliteTable(
  "outbox",
  {
    /** Also the `webhook-id` header: the same on every retry and replay. */
    id: text("id").primaryKey(),
    webhookId: text("webhook_id")
      .notNull()
      .references(() => webhooks.id, { onDelete: "cascade" }),
    messageRowid: integer("message_rowid").references(() => messages.rowid, { onDelete: "cascade" }),
    event: text("event").notNull(),
    accountId: text("account_id"),
    /** The chat id; events that belong to no chat use a key of their own. */
    chatKey: text("chat_key").notNull(),
    seq: integer("seq").notNull(),
    /** 0 live, 1 history/backfill: live traffic is claimed first. */
    priority: integer("priority").notNull().default(0),
    /** JSON body parts for events without a message row (webhook.test, backfill.finished). */
    data: text("data", { mode: "json" }),
    status: text("status", { enum: DELIVERY_STATUSES }).notNull(),
    ready: integer("ready", { mode: "boolean" }).notNull(),
    attempts: integer("attempts").notNull().default(0),
    availableAt: integer("available_at").notNull(),
    leaseUntil: integer("lease_until"),
    lastAttemptAt: integer("last_attempt_at"),
    lastStatusCode: integer("last_status_code"),
    lastError: text("last_error"),
    deliveredAt: integer("delivered_at"),
    createdAt: integer("created_at").notNull(),
    /** The backfill that queued this row (payload `history: true`), or null for live traffic. */
    backfillId: text("backfill_id"),
  },
  (t) => [
    index("outbox_claim").on(t.webhookId, t.status, t.ready, t.priority, t.availableAt),
    // Only backfill rows: live traffic pays nothing for it.
    index("outbox_backfill")
      .on(t.backfillId, t.status)
      .where(sql`backfill_id IS NOT NULL`),
    index("outbox_chat").on(t.webhookId, t.chatKey, t.seq),
    // The unfinished rows of a chat, without reading its delivered history: per-chat order
    // asks "is anything earlier still open?" for every event.
    index("outbox_open")
      .on(t.webhookId, t.chatKey, t.seq)
      .where(sql`status IN ('pending', 'in_flight')`),
    index("outbox_message").on(t.messageRowid),
    // Retention's view: delivered rows by age (rows enter it once, when delivered).
    index("outbox_delivered_time")
      .on(t.createdAt)
      .where(sql`status = 'delivered'`),
  ],
);

/** The last `seq` handed out per (webhook, chat); survives retention of old outbox rows. */
export const chatSeq = sqliteTable(
  "chat_seq",
  {
    webhookId: text("webhook_id")
      .notNull()
      .references(() => webhooks.id, { onDelete: "cascade" }),
    chatKey: text("chat_key").notNull(),
    lastSeq: integer("last_seq").notNull(),
  },
  (t) => [primaryKey({ columns: [t.webhookId, t.chatKey] })],
);

/** Every HTTP attempt, for the delivery log. */
export const deliveryAttempts = sqliteTable(
  "delivery_attempts",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    outboxId: text("outbox_id")
      .notNull()
      .references(() => outbox.id, { onDelete: "cascade" }),
    webhookId: text("webhook_id").notNull(),
    attempt: integer("attempt").notNull(),
    startedAt: integer("started_at").notNull(),
    durationMs: integer("duration_ms").notNull(),
    statusCode: integer("status_code"),
    /** null on a 2xx; else timeout, connect, dns, tls, network, blocked_target, http…; internal: our own failure. */
    errorClass: text("error_class"),
    error: text("error"),
    /** First 64 KiB of the answer's body. */
    responseExcerpt: text("response_excerpt"),
    outcome: text("outcome").notNull(),
  },
  (t) => [index("attempts_outbox").on(t.outboxId, t.id), index("attempts_time").on(t.startedAt)],
);

// ---- WhatsApp accounts ------------------------------------------------------------------

/** A linked WhatsApp number. Its credentials live in wa_creds / wa_keys. */
export const accounts = sqliteTable("accounts", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  /** Fills `user_email` in payloads. */
  email: text("email"),
  state: text("state", { enum: ACCOUNT_STATES }).notNull(),
  stateSince: integer("state_since").notNull(),
  /** Own phone digits and LID, known once paired. */
  phone: text("phone"),
  lid: text("lid"),
  pushName: text("push_name"),
  lastDisconnectCode: integer("last_disconnect_code"),
  lastDisconnectReason: text("last_disconnect_reason"),
  lastDisconnectAt: integer("last_disconnect_at"),
  /** Set by an admin's logout/stop: do not connect at start-up. */
  stopped: integer("stopped", { mode: "boolean" }).notNull().default(false),
  createdAt: integer("created_at").notNull().default(now),
  updatedAt: integer("updated_at").notNull().default(now),
});

/** Baileys' AuthenticationCreds, one JSON row per account (BufferJSON encoding). */
export const waCreds = sqliteTable("wa_creds", {
  accountId: text("account_id")
    .primaryKey()
    .references(() => accounts.id, { onDelete: "cascade" }),
  data: text("data").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

/** Baileys' signal key store: (account, type, id) → JSON value. */
export const waKeys = sqliteTable(
  "wa_keys",
  {
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    type: text("type").notNull(),
    id: text("id").notNull(),
    value: text("value").notNull(),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.type, t.id] })],
);

/** LID ↔ phone, learned from keys, history, lid-mapping.update; never forgotten. */
export const lidMappings = sqliteTable(
  "lid_mappings",
  {
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    /** Digits of the LID user part. */
    lid: text("lid").notNull(),
    phone: text("phone").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.lid] }), index("lid_mappings_phone").on(t.accountId, t.phone)],
);

/** Names per contact phone: the admin's saved name and the contact's own push name. */
export const contacts = sqliteTable(
  "contacts",
  {
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    phone: text("phone").notNull(),
    savedName: text("saved_name"),
    pushName: text("push_name"),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.phone] })],
);

/** Group subject and members, kept current from group events (never fetched per message). */
export const waGroups = sqliteTable(
  "wa_groups",
  {
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    jid: text("jid").notNull(),
    subject: text("subject"),
    /** JSON array of { jid, phone } */
    participants: text("participants", { mode: "json" }).$type<{ jid: string; phone: string | null }[]>().notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.jid] })],
);

/** Downloaded media of stored messages, served at /v1/media/<token>. */
export const media = sqliteTable(
  "media",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id").notNull(),
    messageRowid: integer("message_rowid")
      .notNull()
      .references(() => messages.rowid, { onDelete: "cascade" }),
    status: text("status", { enum: MEDIA_STATUSES }).notNull(),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: integer("next_attempt_at").notNull(),
    path: text("path"),
    mimeType: text("mime_type"),
    fileName: text("file_name"),
    fileSize: integer("file_size"),
    error: text("error"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [uniqueIndex("media_message").on(t.messageRowid), index("media_due").on(t.status, t.nextAttemptAt)],
);

/** Small process-wide values that must survive restarts (e.g. the media link signing key). */
export const kv = sqliteTable("kv", {
  key: text("key").primaryKey(),
  value: text("value").notNull(),
});

// ---- History backfills --------------------------------------------------------------------

/**
 * A paced, resumable delivery of stored messages to webhooks, in time order (so each chat's
 * messages go in order and many chats go at once). The cursor (timestamp, rowid) is the
 * last message handled; it moves in the same transaction that queues the outbox rows, so a
 * restart neither skips nor repeats.
 */
export const backfills = sqliteTable(
  "backfills",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    state: text("state", { enum: BACKFILL_STATES }).notNull(),
    /** Made by history sync for `include_history` webhooks rather than by an admin. */
    auto: integer("auto", { mode: "boolean" }).notNull().default(false),
    /** JSON array of webhook ids; for auto jobs filled in when planning ends. */
    webhookIds: text("webhook_ids", { mode: "json" }).$type<string[]>().notNull(),
    /** JSON array of Cooby chat ids, or null for every chat. */
    chatIds: text("chat_ids", { mode: "json" }).$type<string[] | null>(),
    /** Message timestamp bounds, unix seconds, inclusive. */
    since: integer("since"),
    until: integer("until"),
    olderPerChat: integer("older_per_chat"),
    ratePerS: integer("rate_per_s").notNull(),
    redeliver: integer("redeliver", { mode: "boolean" }).notNull().default(false),
    /** Messages with rowid in (min_rowid, max_rowid] are selected; max is fixed when planning ends. */
    minRowid: integer("min_rowid").notNull().default(0),
    maxRowid: integer("max_rowid"),
    /** Auto jobs wait until history has been quiet until this time (ms) before planning. */
    planAfter: integer("plan_after"),
    /** (message, webhook) pairs selected, queued, and skipped as already sent. */
    total: integer("total"),
    enqueued: integer("enqueued").notNull().default(0),
    skipped: integer("skipped").notNull().default(0),
    /** Outcome counts, frozen when the job ends (while running they are read from the outbox). */
    delivered: integer("delivered"),
    failed: integer("failed"),
    cursorTs: integer("cursor_ts"),
    cursorRowid: integer("cursor_rowid"),
    /** Every selected message has been handled; the job ends when its rows are delivered. */
    exhausted: integer("exhausted", { mode: "boolean" }).notNull().default(false),
    error: text("error"),
    createdAt: integer("created_at").notNull(),
    startedAt: integer("started_at"),
    finishedAt: integer("finished_at"),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [index("backfills_account").on(t.accountId, t.id), index("backfills_state").on(t.state)],
);

/** `older_per_chat`: what a backfill asked the phone for, per chat, and what came back. */
export const backfillOlder = sqliteTable(
  "backfill_older",
  {
    backfillId: text("backfill_id")
      .notNull()
      .references(() => backfills.id, { onDelete: "cascade" }),
    chatId: text("chat_id").notNull(),
    wanted: integer("wanted").notNull(),
    received: integer("received").notNull().default(0),
    requests: integer("requests").notNull().default(0),
    state: text("state", { enum: ["waiting", "requested", "done", "unanswered"] }).notNull(),
    /** The open on-demand request (Baileys' peer data request id). */
    requestId: text("request_id"),
    requestedAt: integer("requested_at"),
  },
  (t) => [primaryKey({ columns: [t.backfillId, t.chatId] }), index("backfill_older_request").on(t.requestId)],
);
