// The end-of-turn group commit: deferred work lands in one transaction, in order; one
// failing piece takes only itself back; a commit that fails keeps everything queued and
// does not run the hooks (the WhatsApp frames they would release stay held) until a retry
// succeeds.
import { afterEach, beforeEach, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { createLogger } from "../../src/log.ts";
import { GroupCommit } from "../../src/store/groupCommit.ts";
import { openStore, type Store } from "../../src/store/db.ts";
import { tempDir } from "../support/app.ts";
import { waitUntil } from "../support/wait.ts";

let dir: string;
let store: Store;
let commit: GroupCommit;
const logged: { level: string; msg: string }[] = [];

beforeEach(() => {
  dir = tempDir("wahook-gc-");
  store = openStore(join(dir, "wahook.db"));
  store.sqlite.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)");
  commit = new GroupCommit(store, createLogger("debug", (line) => logged.push(JSON.parse(line))));
});

afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
  logged.length = 0;
});

const rows = () => store.sqlite.query("SELECT id, v FROM t ORDER BY id").all();
const insert = (id: number, v: string) => () => void store.sqlite.query("INSERT INTO t (id, v) VALUES (?, ?)").run(id, v);
const turn = () => new Promise((resolve) => setImmediate(resolve));

test("work deferred in one turn is written at its end, in order, in one commit; `after` runs once it is durable", async () => {
  const after: number[] = [];
  for (let i = 1; i <= 50; i++) commit.defer(`row ${i}`, insert(i, `v${i}`), () => after.push(i));
  // Nothing yet: the turn is not over.
  expect(rows()).toHaveLength(0);
  expect(after).toEqual([]);
  await turn();
  expect(rows()).toHaveLength(50);
  expect(after).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  expect({ commits: commit.commits, pieces: commit.pieces }).toEqual({ commits: 1, pieces: 50 });
});

test("a piece that throws is rolled back alone and logged; the others are stored", async () => {
  const after: string[] = [];
  commit.defer("first", insert(1, "a"), () => after.push("first"));
  commit.defer(
    "broken",
    () => {
      insert(2, "half written")();
      throw new Error("normalization bug");
    },
    () => after.push("broken"),
  );
  commit.defer("third", insert(3, "c"), () => after.push("third"));
  await turn();
  expect(rows()).toEqual([
    { id: 1, v: "a" },
    { id: 3, v: "c" },
  ]);
  expect(after).toEqual(["first", "third"]);
  expect(logged.filter((l) => l.level === "error").map((l) => l.msg)).toEqual(["could not store one piece of WhatsApp work; the others are stored"]);
});

test("a commit that fails keeps the work queued and the hooks from running, then succeeds on retry", async () => {
  let released = 0;
  commit.onCommitted(() => released++);
  // Another connection holds the write lock: BEGIN IMMEDIATE fails with SQLITE_BUSY.
  store.sqlite.exec("PRAGMA busy_timeout = 0");
  const { Database } = await import("bun:sqlite");
  const other = new Database(join(dir, "wahook.db"));
  other.exec("BEGIN IMMEDIATE");
  commit.defer("row", insert(1, "kept"));
  await turn();
  expect(rows()).toHaveLength(0);
  expect(released).toBe(0);
  expect(commit.pending).toBe(1);
  expect(logged.some((l) => l.level === "error" && l.msg.startsWith("could not commit what WhatsApp sent"))).toBe(true);
  other.exec("COMMIT");
  other.close();
  await waitUntil(() => rows().length === 1, 2_000, "the retry committed");
  expect(rows()).toEqual([{ id: 1, v: "kept" }]);
  expect(released).toBe(1);
  expect(commit.pending).toBe(0);
});

test("flushNow commits at once; only flushNow(true) (a socket closing, shutdown) or the end of the turn runs the hooks", async () => {
  let released = 0;
  commit.onCommitted(() => released++);
  commit.defer("row", insert(1, "now"));
  // Mid-turn (creds that count this turn's keys): durable now, frames still held.
  commit.flushNow();
  expect(rows()).toHaveLength(1);
  expect(released).toBe(0);
  // The end of the turn releases them.
  await turn();
  expect(released).toBe(1);
  commit.defer("row", insert(2, "closing"));
  commit.flushNow(true);
  expect(rows()).toHaveLength(2);
  expect(released).toBe(2);
});

test("close: a last flush, then nothing more is queued or retried (the store is about to close)", async () => {
  let released = 0;
  commit.onCommitted(() => released++);
  commit.defer("row", insert(1, "last"));
  commit.close();
  expect(rows()).toEqual([{ id: 1, v: "last" }]);
  expect(released).toBe(1);
  commit.defer("late", insert(2, "too late"));
  await turn();
  expect(rows()).toHaveLength(1);
  expect(commit.pending).toBe(0);
});

test("whenCommitted: runs after the commit of the piece that asked; dropped with a piece rolled back, run again with a failed commit's retry", async () => {
  const ran: string[] = [];
  expect(commit.whenCommitted(() => ran.push("outside"))).toBe(false);
  commit.defer("kept", () => {
    insert(1, "a")();
    expect(commit.whenCommitted(() => ran.push("kept"))).toBe(true);
    // Not yet: the commit has not happened.
    expect(ran).toEqual([]);
  });
  commit.defer("broken", () => {
    commit.whenCommitted(() => ran.push("broken"));
    throw new Error("rolled back");
  });
  await turn();
  expect(ran).toEqual(["kept"]);

  // A commit that fails runs nothing; its retry runs the piece, and the hook, once.
  store.sqlite.exec("PRAGMA busy_timeout = 0");
  const { Database } = await import("bun:sqlite");
  const other = new Database(join(dir, "wahook.db"));
  other.exec("BEGIN IMMEDIATE");
  commit.defer("retried", () => {
    insert(2, "b")();
    commit.whenCommitted(() => ran.push("retried"));
  });
  await turn();
  expect(ran).toEqual(["kept"]);
  other.exec("COMMIT");
  other.close();
  await waitUntil(() => rows().length === 2, 2_000, "the retry committed");
  expect(ran).toEqual(["kept", "retried"]);
});

test("flushIfDue: mid-turn, commits and releases what waits once the last flush is old enough; nothing when nothing waits", async () => {
  let released = 0;
  commit.onCommitted(() => released++);
  commit.flushIfDue(0);
  expect(released).toBe(0);
  commit.flushNow(true);
  released = 0;
  commit.defer("row", insert(1, "a"));
  // The last flush (just above) is recent: not yet.
  commit.flushIfDue(60_000);
  expect(rows()).toHaveLength(0);
  commit.flushIfDue(0);
  expect(rows()).toEqual([{ id: 1, v: "a" }]);
  expect(released).toBe(1);
  // Frames held alone (schedule without work) are released too.
  commit.schedule();
  commit.flushIfDue(0);
  expect(released).toBe(2);
  await turn();
  expect(released).toBe(2);
});
