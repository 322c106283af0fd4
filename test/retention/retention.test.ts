// Retention keeps what it promises and no more, as tables of cases: each row of the store
// is made with the ages that matter (made, delivered, last attempt, sent, downloaded), the
// hourly job runs once, and what is left is compared with what the settings promise.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfig } from "../../src/config.ts";
import { startDataStage } from "../../src/dataStage.ts";
import { silentLogger } from "../../src/log.ts";
import { runRetention, type RetentionSettings } from "../../src/retention.ts";
import { deleteAccount } from "../../src/store/accounts.ts";
import { openStore, type Store } from "../../src/store/db.ts";
import { tempDir } from "../support/app.ts";

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 11, 5, 12);
const ago = (days: number) => NOW - days * DAY;
const DEFAULTS: RetentionSettings = { deliveredDays: 30, deadLetterDays: null, messageDays: null, mediaTtlMs: 7 * DAY };

let dir: string;
let media: string;
let store: Store;
let seq = 0;

beforeEach(() => {
  dir = tempDir("wahook-retention-");
  media = join(dir, "media");
  mkdirSync(media);
  store = openStore(join(dir, "wahook.db"));
  store.sqlite.exec(`INSERT INTO accounts (id, name, state, state_since) VALUES ('acc_a', 'A', 'open', 0), ('acc_b', 'B', 'open', 0)`);
  store.sqlite.exec(`INSERT INTO webhooks (id, url, events, secret) VALUES ('wh_1', 'http://127.0.0.1/hook', '["message.received"]', 'whsec_x')`);
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A stored message sent `sentDaysAgo`; returns its rowid. */
function message(sentDaysAgo: number, account = "acc_a"): number {
  const id = `M${++seq}`;
  return Number(
    store.sqlite
      .query("INSERT INTO messages (account_id, chat_id, message_id, direction, type, timestamp, history, data, created_at) VALUES (?, 'c@c.us', ?, 'received', 'chat', ?, 0, '{}', ?)")
      .run(account, id, Math.floor(ago(sentDaysAgo) / 1000), ago(sentDaysAgo)).lastInsertRowid,
  );
}

interface Delivery {
  status: "pending" | "in_flight" | "delivered" | "failed";
  made: number;
  delivered?: number;
  lastAttempt?: number;
  message?: number | null;
  account?: string;
}

/** An outbox row with two attempts; ages in days. Returns its id. */
function delivery(d: Delivery): string {
  const id = `msg_${++seq}`;
  store.sqlite
    .query(
      `INSERT INTO outbox (id, webhook_id, message_rowid, event, account_id, chat_key, seq, status, ready, attempts, available_at, created_at, delivered_at, last_attempt_at)
       VALUES (?, 'wh_1', ?, 'message.received', ?, ?, 1, ?, 0, 2, 0, ?, ?, ?)`,
    )
    .run(id, d.message ?? null, d.account ?? "acc_a", `chat-${seq}`, d.status, ago(d.made), d.delivered === undefined ? null : ago(d.delivered), d.lastAttempt === undefined ? null : ago(d.lastAttempt));
  for (const attempt of [1, 2])
    store.sqlite
      .query("INSERT INTO delivery_attempts (outbox_id, webhook_id, attempt, started_at, duration_ms, outcome) VALUES (?, 'wh_1', ?, ?, 5, 'retry')")
      .run(id, attempt, ago(d.made));
  return id;
}

/** A downloaded media file of `messageRowid`, downloaded `daysAgo`. Returns its file name. */
function mediaFile(messageRowid: number, daysAgo: number, account = "acc_a"): string {
  const id = `med_${++seq}`;
  store.sqlite
    .query("INSERT INTO media (id, account_id, message_rowid, status, attempts, next_attempt_at, path, created_at) VALUES (?, ?, ?, 'ready', 1, 0, ?, ?)")
    .run(id, account, messageRowid, id, ago(daysAgo));
  writeFileSync(join(media, id), "bytes");
  return id;
}

const outboxIds = () => new Set(store.sqlite.query<{ id: string }, []>("SELECT id FROM outbox").all().map((r) => r.id));
const attemptsOf = (id: string) => store.sqlite.query<{ n: number }, [string]>("SELECT COUNT(*) AS n FROM delivery_attempts WHERE outbox_id = ?").get(id)!.n;
const messageExists = (rowid: number) => store.sqlite.query("SELECT 1 FROM messages WHERE rowid = ?").get(rowid) !== null;
const mediaRow = (id: string) => store.sqlite.query<{ status: string; path: string | null }, [string]>("SELECT status, path FROM media WHERE id = ?").get(id);

describe("deliveries and their attempts", () => {
  const cases: [string, Delivery, Partial<RetentionSettings>, "kept" | "gone"][] = [
    ["delivered 40 days ago", { status: "delivered", made: 40, delivered: 40 }, {}, "gone"],
    ["queued 40 days ago, delivered yesterday after a long retry", { status: "delivered", made: 40, delivered: 1 }, {}, "kept"],
    ["delivered 29 days ago", { status: "delivered", made: 29, delivered: 29 }, {}, "kept"],
    ["delivered 40 days ago, retention 60 days", { status: "delivered", made: 40, delivered: 40 }, { deliveredDays: 60 }, "kept"],
    ["pending for 400 days", { status: "pending", made: 400 }, {}, "kept"],
    ["in flight, queued 400 days ago", { status: "in_flight", made: 400, lastAttempt: 0 }, {}, "kept"],
    ["dead letter from 400 days ago, kept until replayed", { status: "failed", made: 401, lastAttempt: 400 }, {}, "kept"],
    ["dead letter, last attempt 70 days ago, dead letters kept 60 days", { status: "failed", made: 72, lastAttempt: 70 }, { deadLetterDays: 60 }, "gone"],
    ["dead letter, last attempt 50 days ago, dead letters kept 60 days", { status: "failed", made: 52, lastAttempt: 50 }, { deadLetterDays: 60 }, "kept"],
    ["dead letter queued 100 days ago, replayed and delivered yesterday", { status: "delivered", made: 100, delivered: 1, lastAttempt: 1 }, { deadLetterDays: 60 }, "kept"],
    ["dead letter queued 100 days ago, replayed and waiting", { status: "pending", made: 100, lastAttempt: 99 }, { deadLetterDays: 60 }, "kept"],
  ];
  test.each(cases.map(([name, d, settings, expected]) => [`${name} → ${expected}`, d, settings, expected] as const))("%s", (_name, d, settings, expected) => {
    const id = delivery(d);
    const control = delivery({ status: "pending", made: 0 });
    runRetention(store, media, { ...DEFAULTS, ...settings }, NOW);
    expect({ row: outboxIds().has(id) ? "kept" : "gone", attempts: attemptsOf(id) }).toEqual({ row: expected, attempts: expected === "kept" ? 2 : 0 });
    expect(attemptsOf(control)).toBe(2);
  });

  test("more old rows than one delete slice: all of them go, and nothing else", () => {
    const old = ago(40);
    store.sqlite.transaction(() => {
      const insert = store.sqlite.query(
        `INSERT INTO outbox (id, webhook_id, event, chat_key, seq, status, ready, attempts, available_at, created_at, delivered_at)
         VALUES (?, 'wh_1', 'webhook.test', 'c', ?, 'delivered', 0, 1, ?, ?, ?)`,
      );
      for (let i = 0; i < 12_000; i++) insert.run(`msg_old_${i}`, i + 1, old, old, old);
    })();
    const dead = delivery({ status: "failed", made: 400, lastAttempt: 400 });
    const report = runRetention(store, media, DEFAULTS, NOW);
    expect(report.delivered.outbox).toBe(12_000);
    expect([...outboxIds()]).toEqual([dead]);
  });
});

describe("media files", () => {
  type MediaCase = [string, { downloaded: number; deliveries: Delivery[] }, "kept" | "gone"];
  const cases: MediaCase[] = [
    ["downloaded 10 days ago, delivered 10 days ago (every link expired)", { downloaded: 10, deliveries: [{ status: "delivered", made: 10, delivered: 10 }] }, "gone"],
    ["downloaded 10 days ago, its delivery still pending", { downloaded: 10, deliveries: [{ status: "pending", made: 10 }] }, "kept"],
    ["downloaded 10 days ago, one webhook got it 2 days ago (its link is valid 5 more days)", { downloaded: 10, deliveries: [{ status: "delivered", made: 10, delivered: 10 }, { status: "delivered", made: 10, delivered: 2 }] }, "kept"],
    ["downloaded 10 days ago, a dead letter may still be replayed", { downloaded: 10, deliveries: [{ status: "failed", made: 10, lastAttempt: 9 }] }, "kept"],
    ["downloaded 10 days ago, in flight right now", { downloaded: 10, deliveries: [{ status: "in_flight", made: 10, lastAttempt: 0 }] }, "kept"],
    ["downloaded 2 days ago, no delivery (history)", { downloaded: 2, deliveries: [] }, "kept"],
    ["downloaded 10 days ago, no delivery (history, no webhook)", { downloaded: 10, deliveries: [] }, "gone"],
  ];
  test.each(cases.map(([name, c, expected]) => [`${name} → ${expected}`, c, expected] as const))("%s", (_name, c, expected) => {
    const rowid = message(20);
    for (const d of c.deliveries) delivery({ ...d, message: rowid });
    const file = mediaFile(rowid, c.downloaded);
    runRetention(store, media, DEFAULTS, NOW);
    expect(existsSync(join(media, file)) ? "kept" : "gone").toBe(expected);
    // A removed file's row says so: a later backfill downloads it again, links say "no longer stored".
    expect(mediaRow(file)).toEqual(expected === "kept" ? { status: "ready", path: file } : { status: "deferred", path: null });
  });

  test("files no row names go once they are an hour old (a crash between commit and unlink)", () => {
    const stale = join(media, "med_orphan_old");
    const fresh = join(media, "med_orphan_new");
    writeFileSync(stale, "x");
    writeFileSync(fresh, "x");
    utimesSync(stale, new Date(NOW - 2 * 3_600_000), new Date(NOW - 2 * 3_600_000));
    utimesSync(fresh, new Date(NOW - 10 * 60_000), new Date(NOW - 10 * 60_000));
    const known = mediaFile(message(1), 1);
    const report = runRetention(store, media, DEFAULTS, NOW);
    expect(report.orphanFiles).toBe(1);
    expect([existsSync(stale), existsSync(fresh), existsSync(join(media, known))]).toEqual([false, true, true]);
  });
});

describe("stored messages", () => {
  const cases: [string, { sent: number; deliveries: Delivery[] }, number | null, "kept" | "gone"][] = [
    ["sent 100 days ago, delivered, messages kept (default)", { sent: 100, deliveries: [{ status: "delivered", made: 100, delivered: 100 }] }, null, "kept"],
    ["sent 100 days ago, delivered, kept 90 days", { sent: 100, deliveries: [{ status: "delivered", made: 100, delivered: 100 }] }, 90, "gone"],
    ["sent 100 days ago, never delivered anywhere, kept 90 days", { sent: 100, deliveries: [] }, 90, "gone"],
    ["sent 100 days ago, a delivery still pending, kept 90 days", { sent: 100, deliveries: [{ status: "pending", made: 100 }] }, 90, "kept"],
    ["sent 100 days ago, a dead letter, kept 90 days", { sent: 100, deliveries: [{ status: "failed", made: 100, lastAttempt: 99 }] }, 90, "kept"],
    ["sent 80 days ago, kept 90 days", { sent: 80, deliveries: [] }, 90, "kept"],
  ];
  test.each(cases.map(([name, c, days, expected]) => [`${name} → ${expected}`, c, days, expected] as const))("%s", (_name, c, messageDays, expected) => {
    const rowid = message(c.sent);
    const ids = c.deliveries.map((d) => delivery({ ...d, message: rowid }));
    const file = mediaFile(rowid, 0);
    runRetention(store, media, { ...DEFAULTS, messageDays, deliveredDays: 3650 }, NOW);
    const left = { message: messageExists(rowid), deliveries: ids.filter((id) => outboxIds().has(id)).length, file: existsSync(join(media, file)) };
    expect(left).toEqual(expected === "kept" ? { message: true, deliveries: ids.length, file: true } : { message: false, deliveries: 0, file: false });
  });
});

describe("deleting an account with purge=true", () => {
  test("its messages, media files and queue go; another account's stay", async () => {
    const data = startDataStage(loadConfig({ WAHOOK_DATA_DIR: dir, WAHOOK_BACKUP_DIR: join(dir, "backups") }), store, silentLogger);
    const mine = message(1, "acc_a");
    const theirs = message(1, "acc_b");
    const myFile = mediaFile(mine, 1, "acc_a");
    const theirFile = mediaFile(theirs, 1, "acc_b");
    const myDeliveries = [delivery({ status: "pending", made: 1, message: mine }), delivery({ status: "failed", made: 1, lastAttempt: 1, message: mine }), delivery({ status: "pending", made: 0, message: null })];
    const theirDelivery = delivery({ status: "pending", made: 1, message: theirs, account: "acc_b" });

    await data.removeAccount("acc_a", true, async () => void deleteAccount(store, "acc_a", true));
    data.stop();

    expect({ message: messageExists(mine), file: existsSync(join(media, myFile)), queue: myDeliveries.filter((id) => outboxIds().has(id)), attempts: myDeliveries.map(attemptsOf) }).toEqual({
      message: false,
      file: false,
      queue: [],
      attempts: [0, 0, 0],
    });
    expect({ message: messageExists(theirs), file: existsSync(join(media, theirFile)), queued: outboxIds().has(theirDelivery) }).toEqual({ message: true, file: true, queued: true });
  });

  test("without purge the account goes and what it brought in stays", async () => {
    const data = startDataStage(loadConfig({ WAHOOK_DATA_DIR: dir, WAHOOK_BACKUP_DIR: join(dir, "backups") }), store, silentLogger);
    const mine = message(1, "acc_a");
    const file = mediaFile(mine, 1);
    const queued = delivery({ status: "pending", made: 1, message: mine });
    await data.removeAccount("acc_a", false, async () => void deleteAccount(store, "acc_a", false));
    data.stop();
    expect({ message: messageExists(mine), file: existsSync(join(media, file)), queued: outboxIds().has(queued) }).toEqual({ message: true, file: true, queued: true });
  });
});
