// Drizzle tables. drizzle-kit turns changes here into SQL migrations in drizzle/;
// never edit an applied migration, add a new one (`bun run db:generate`).
import { sql } from "drizzle-orm";
import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

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
    ordering: text("ordering", { enum: ["per_chat", "none"] }).notNull().default("per_chat"),
    format: text("format", { enum: ["cooby", "raw"] }).notNull().default("cooby"),
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
    createdAt: integer("created_at").notNull().default(now),
    updatedAt: integer("updated_at").notNull().default(now),
  },
);
