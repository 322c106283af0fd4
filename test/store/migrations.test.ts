// Embedded migrations: the binary carries exactly what drizzle-kit generated, upgrades a
// database made by any older binary without losing rows, refuses one made by a newer
// binary, and opens with the pragmas the delivery engine relies on.
import { Database } from "bun:sqlite";
import { afterAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { findKey, insertKey } from "../../src/store/apiKeys.ts";
import { migrate, openStore } from "../../src/store/db.ts";
import { embeddedMigrations, embeddedTags, type Migration } from "../../src/store/migrations.ts";
import { getWebhook } from "../../src/store/webhooks.ts";
import { tempDir } from "../support/app.ts";

const DRIZZLE = resolve(import.meta.dir, "../../drizzle");
const journal = JSON.parse(readFileSync(join(DRIZZLE, "meta/_journal.json"), "utf8")) as { entries: { tag: string }[] };
const sqlOf = (tag: string) => readFileSync(join(DRIZZLE, `${tag}.sql`), "utf8");

const dir = tempDir("wahook-migrations-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const dbFile = () => join(dir, `db-${n++}.sqlite`);

describe("embedded migrations match drizzle/", () => {
  test("every journal entry is embedded, in order, with the SQL of its file", () => {
    const embedded = embeddedMigrations();
    expect(embedded.map((m) => m.tag)).toEqual(journal.entries.map((e) => e.tag));
    for (const m of embedded) {
      const text = sqlOf(m.tag);
      const statements = text.split("--> statement-breakpoint").map((s) => s.trim()).filter(Boolean);
      expect({ tag: m.tag, statements: m.statements }).toEqual({ tag: m.tag, statements });
      expect(m.hash).toBe(new Bun.CryptoHasher("sha256").update(text).digest("hex"));
    }
  });

  // A .sql file without a journal entry (or an import without either) would never run.
  test("every .sql file in drizzle/ is in the journal and embedded", () => {
    const files = readdirSync(DRIZZLE).filter((f) => f.endsWith(".sql")).map((f) => f.replace(/\.sql$/, "")).sort();
    expect(files).toEqual(journal.entries.map((e) => e.tag));
    expect([...embeddedTags()].sort()).toEqual(files);
  });
});

// ---- upgrades ---------------------------------------------------------------------------

const T0 = 1_795_519_416_831;
const API_KEY = "whk_upgrade-test-key-0123456789abcdef";

/**
 * Realistic rows for every table, in foreign-key order. Plain SQL with the columns of the
 * migration that created the table, so the same rows can be written to a database at any
 * older schema; later migrations must keep them.
 */
const SEEDS: [table: string, sql: string][] = [
  [
    "webhooks",
    `INSERT INTO webhooks (id, url, description, events, account_ids, ordering, format, include_history, max_concurrency,
       rate_limit_per_s, retry_schedule, enabled, disabled_reason, disabled_at, secret, previous_secret, previous_secret_until, created_at, updated_at)
     VALUES ('wh_06H0TK2F3M4PQ9QXCGMARXVFNB', 'https://user:pw@n8n.example.com/webhook/whatsapp', 'CRM inbox',
       '["message.received","message.sent"]', '["acc_06H0TJZ8W1M2N3P4Q5R6S7T8V9"]', 'per_chat', 'cooby', 1, 8, 20, '[5000,60000]', 1,
       NULL, NULL, 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwAAAAAAAAAAA=', 'whsec_old', ${T0 + 86_400_000}, ${T0}, ${T0 + 5})`,
  ],
  [
    "messages",
    `INSERT INTO messages (rowid, account_id, chat_id, message_id, direction, type, timestamp, history, data, created_at)
     VALUES (7, 'acc_06H0TJZ8W1M2N3P4Q5R6S7T8V9', '491701234567@c.us', '3EB0C431C26A1916E5A9', 'received', 'text', ${T0 - 1000}, 0,
       '{"text":"Hallo, ist das Angebot noch gültig? 👋","sender":"491701234567"}', ${T0})`,
  ],
  [
    "outbox",
    `INSERT INTO outbox (id, webhook_id, message_rowid, event, account_id, chat_key, seq, priority, data, status, ready, attempts,
       available_at, lease_until, last_attempt_at, last_status_code, last_error, delivered_at, created_at)
     VALUES ('msg_06H0TK9Q1D2B4XJ8ZC3E5RNWMA', 'wh_06H0TK2F3M4PQ9QXCGMARXVFNB', 7, 'message.received', 'acc_06H0TJZ8W1M2N3P4Q5R6S7T8V9',
       '491701234567@c.us', 42, 0, NULL, 'pending', 1, 2, ${T0 + 300_000}, NULL, ${T0 + 10}, 503, 'HTTP 503', NULL, ${T0})`,
  ],
  [
    "chat_seq",
    `INSERT INTO chat_seq (webhook_id, chat_key, last_seq) VALUES ('wh_06H0TK2F3M4PQ9QXCGMARXVFNB', '491701234567@c.us', 42)`,
  ],
  [
    "delivery_attempts",
    `INSERT INTO delivery_attempts (outbox_id, webhook_id, attempt, started_at, duration_ms, status_code, error_class, error, response_excerpt, outcome)
     VALUES ('msg_06H0TK9Q1D2B4XJ8ZC3E5RNWMA', 'wh_06H0TK2F3M4PQ9QXCGMARXVFNB', 2, ${T0 + 10}, 31, 503, 'http', 'HTTP 503', 'upstream busy', 'retry')`,
  ],
  [
    "accounts",
    `INSERT INTO accounts (id, name, email, state, state_since, phone, lid, push_name, last_disconnect_code, last_disconnect_reason,
       last_disconnect_at, stopped, created_at, updated_at)
     VALUES ('acc_06H0TJZ8W1M2N3P4Q5R6S7T8V9', 'Sales', 'sales@example.com', 'open', ${T0}, '491709876543', '12345678901234@lid',
       'Example GmbH', 515, 'restart required', ${T0 - 2000}, 0, ${T0 - 30_000}, ${T0})`,
  ],
  [
    "contacts",
    `INSERT INTO contacts (account_id, phone, saved_name, push_name, updated_at)
     VALUES ('acc_06H0TJZ8W1M2N3P4Q5R6S7T8V9', '491701234567', 'Anna Müller', 'Anna', ${T0})`,
  ],
  ["kv", `INSERT INTO kv (key, value) VALUES ('media_link_key', 'q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq8M=')`],
  [
    "lid_mappings",
    `INSERT INTO lid_mappings (account_id, lid, phone, updated_at) VALUES ('acc_06H0TJZ8W1M2N3P4Q5R6S7T8V9', '98765432109876', '491701234567', ${T0})`,
  ],
  [
    "media",
    `INSERT INTO media (id, account_id, message_rowid, status, attempts, next_attempt_at, path, mime_type, file_name, file_size, error, created_at)
     VALUES ('med_06H0TKA0000000000000000000', 'acc_06H0TJZ8W1M2N3P4Q5R6S7T8V9', 7, 'ready', 1, ${T0}, 'media/med_06H0TKA.jpg', 'image/jpeg',
       'photo.jpg', 48213, NULL, ${T0})`,
  ],
  [
    "wa_creds",
    `INSERT INTO wa_creds (account_id, data, updated_at) VALUES ('acc_06H0TJZ8W1M2N3P4Q5R6S7T8V9', '{"noiseKey":{"private":"AAAA","public":"BBBB"},"registrationId":4711}', ${T0})`,
  ],
  [
    "wa_groups",
    `INSERT INTO wa_groups (account_id, jid, subject, participants, updated_at)
     VALUES ('acc_06H0TJZ8W1M2N3P4Q5R6S7T8V9', '120363025246125486@g.us', 'Team', '[{"id":"491701234567@s.whatsapp.net","admin":"admin"}]', ${T0})`,
  ],
  [
    "wa_keys",
    `INSERT INTO wa_keys (account_id, type, id, value) VALUES ('acc_06H0TJZ8W1M2N3P4Q5R6S7T8V9', 'pre-key', '1', '{"private":"CCCC","public":"DDDD"}')`,
  ],
  [
    "backfills",
    `INSERT INTO backfills (id, account_id, state, auto, webhook_ids, chat_ids, since, until, older_per_chat, rate_per_s, redeliver, min_rowid,
       max_rowid, plan_after, total, enqueued, skipped, delivered, failed, cursor_ts, cursor_rowid, exhausted, error, created_at, started_at,
       finished_at, updated_at)
     VALUES ('bf_06H0TKB0000000000000000000', 'acc_06H0TJZ8W1M2N3P4Q5R6S7T8V9', 'running', 0, '["wh_06H0TK2F3M4PQ9QXCGMARXVFNB"]',
       '["491701234567@c.us"]', ${T0 - 86_400_000}, NULL, 200, 20, 0, 0, 7, NULL, 1, 1, 0, NULL, NULL, ${T0 - 1000}, 7, 0, NULL, ${T0}, ${T0},
       NULL, ${T0})`,
  ],
  [
    "backfill_older",
    `INSERT INTO backfill_older (backfill_id, chat_id, wanted, received, requests, state, request_id, requested_at)
     VALUES ('bf_06H0TKB0000000000000000000', '491701234567@c.us', 200, 50, 1, 'waiting', 'req-1', ${T0})`,
  ],
  [
    "history_notifications",
    `INSERT INTO history_notifications (account_id, message_id, sync_type, chunk_order, request_id, notification, state, attempts, last_error, created_at)
     VALUES ('acc_06H0TJZ8W1M2N3P4Q5R6S7T8V9', '3EB0C431C26A1916E5B0', 3, 2, NULL, 'CAMSAQ==', 'pending', 0, NULL, ${T0})`,
  ],
];

const tablesOf = (sqlite: Database) =>
  sqlite
    .query<{ name: string }, []>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'wahook_migrations' ORDER BY name")
    .all()
    .map((r) => r.name);

const columnsOf = (sqlite: Database, table: string) =>
  sqlite.query<{ name: string; type: string; notnull: number; dflt_value: string | null; pk: number }, []>(`PRAGMA table_info(\`${table}\`)`).all();

const indexesOf = (sqlite: Database) =>
  sqlite
    .query<{ name: string; tbl_name: string }, []>("SELECT name, tbl_name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    .all();

/** The rows of a table as comparable strings, restricted to the given columns. */
function rowsOf(sqlite: Database, table: string, columns: string[]): string[] {
  const list = columns.map((c) => `\`${c}\``).join(", ");
  return sqlite
    .query<Record<string, unknown>, []>(`SELECT ${list} FROM \`${table}\``)
    .all()
    .map((r) => JSON.stringify(r))
    .sort();
}

/** The schema a fresh database gets from the full migration list. */
function freshSchema() {
  const store = openStore(dbFile());
  const tables = tablesOf(store.sqlite);
  const schema = {
    tables: Object.fromEntries(tables.map((t) => [t, columnsOf(store.sqlite, t)])),
    indexes: indexesOf(store.sqlite),
  };
  store.close();
  return schema;
}

describe("upgrading a database made by an older binary", () => {
  const all = embeddedMigrations();
  const full = freshSchema();
  const prefixes = all.slice(0, -1).map((_, i) => all.slice(0, i + 1));

  test.each(prefixes.map((p) => [p.at(-1)!.tag, p] as const))("made at %s: rows kept, schema equals a fresh one", (_tag, prefix) => {
    const file = dbFile();
    const old = openStore(file, prefix as Migration[]);
    const present = tablesOf(old.sqlite);
    const seeded = SEEDS.filter(([table]) => present.includes(table));
    // A table no seed covers would upgrade untested; add a row for it to SEEDS.
    expect(present.filter((t) => t !== "api_keys" && !SEEDS.some(([s]) => s === t))).toEqual([]);
    insertKey(old, API_KEY, "n8n", "admin", "api");
    for (const [, sql] of seeded) old.sqlite.run(sql);
    const before = Object.fromEntries(
      present.map((t) => {
        const columns = columnsOf(old.sqlite, t).map((c) => c.name);
        return [t, { columns, rows: rowsOf(old.sqlite, t, columns) }];
      }),
    );
    old.close();

    const upgraded = openStore(file);
    try {
      for (const [table, { columns, rows }] of Object.entries(before)) {
        expect({ table, rows: rowsOf(upgraded.sqlite, table, columns) }).toEqual({ table, rows });
      }
      expect({
        tables: Object.fromEntries(tablesOf(upgraded.sqlite).map((t) => [t, columnsOf(upgraded.sqlite, t)])),
        indexes: indexesOf(upgraded.sqlite),
      }).toEqual(full);
      const applied = upgraded.sqlite.query<{ tag: string }, []>("SELECT tag FROM wahook_migrations ORDER BY tag").all().map((r) => r.tag);
      expect(applied).toEqual(all.map((m) => m.tag));

      // What a user notices: the old key still opens the API, the webhook is unchanged.
      expect(findKey(upgraded, API_KEY)?.name).toBe("n8n");
      const webhook = getWebhook(upgraded, "wh_06H0TK2F3M4PQ9QXCGMARXVFNB");
      expect(webhook).toMatchObject({
        url: "https://user:pw@n8n.example.com/webhook/whatsapp",
        events: ["message.received", "message.sent"],
        accountIds: ["acc_06H0TJZ8W1M2N3P4Q5R6S7T8V9"],
        includeHistory: true,
        maxConcurrency: 8,
        retrySchedule: [5000, 60000],
        enabled: true,
        secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwAAAAAAAAAAA=",
      });
    } finally {
      upgraded.close();
    }
  });
});

describe("opening", () => {
  test("a database migrated by a newer wahook is refused and left untouched", () => {
    const file = dbFile();
    const made = openStore(file);
    made.sqlite.run("INSERT INTO wahook_migrations (tag, hash, applied_at) VALUES ('9999_from_the_future', 'abc', ?)", [Date.now()]);
    made.close();
    const bytes = readFileSync(file);

    expect(() => openStore(file)).toThrow(/migrated by a newer wahook \(9999_from_the_future\)/);
    expect(readFileSync(file).equals(bytes)).toBe(true);
    const files = readdirSync(dir).filter((f) => f.startsWith(file.split("/").at(-1)!));
    expect(files).toEqual([file.split("/").at(-1)!]);
  });

  test.each([
    ["default: normal sync", {}, 1],
    ["WAHOOK_DB_SYNC=full", { synchronous: "full" as const }, 2],
  ])("pragmas: WAL, foreign keys on, 5 s busy timeout, 16 MB cache, %s", (_name, opts, synchronous) => {
    const store = openStore(dbFile(), undefined, opts);
    try {
      const pragma = (name: string) => Object.values(store.sqlite.query(`PRAGMA ${name}`).get() as object)[0];
      expect(pragma("journal_mode")).toBe("wal");
      expect(pragma("foreign_keys")).toBe(1);
      expect(pragma("busy_timeout")).toBe(5000);
      expect(pragma("cache_size")).toBe(-16000);
      expect(pragma("synchronous")).toBe(synchronous);
    } finally {
      store.close();
    }
  });

  test("reopening an up-to-date database runs no migration", () => {
    const file = dbFile();
    openStore(file).close();
    const read = () => {
      const sqlite = new Database(file, { readonly: true });
      const rows = sqlite.query("SELECT tag, hash, applied_at FROM wahook_migrations ORDER BY tag").all();
      sqlite.close();
      return rows;
    };
    const first = read();
    expect(first).toHaveLength(embeddedMigrations().length);

    const again = openStore(file);
    expect(migrate(again.sqlite, embeddedMigrations())).toEqual([]);
    again.close();
    expect(read()).toEqual(first);
  });

  // Each migration is one transaction: a failing statement leaves nothing half-applied.
  test("a migration that fails part-way leaves no trace and is retried next time", () => {
    const file = dbFile();
    const base = embeddedMigrations();
    const broken: Migration = { tag: "9000_broken", hash: "x", statements: ["CREATE TABLE half_done (id TEXT)", "THIS IS NOT SQL"] };
    expect(() => openStore(file, [...base, broken])).toThrow();
    const sqlite = new Database(file);
    expect(tablesOf(sqlite)).not.toContain("half_done");
    const tags = sqlite.query<{ tag: string }, []>("SELECT tag FROM wahook_migrations").all().map((r) => r.tag);
    expect(tags.sort()).toEqual(base.map((m) => m.tag));
    sqlite.close();

    const fixed: Migration = { ...broken, statements: ["CREATE TABLE half_done (id TEXT)"] };
    const store = openStore(file, [...base, fixed]);
    expect(tablesOf(store.sqlite)).toContain("half_done");
    store.close();
  });
});
