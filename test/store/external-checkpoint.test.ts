// WAHOOK_WAL_CHECKPOINT=external leaves every checkpoint to a replication tool (Litestream
// holds a read connection and checkpoints itself): wahook's connection never copies the
// write-ahead log into the database file, not after many writes, not when it closes.
import { Database } from "bun:sqlite";
import { afterEach, expect, test } from "bun:test";
import { rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { openStore } from "../../src/store/db.ts";
import { tempDir } from "../support/app.ts";

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

/** Writes ~1,500 pages (past SQLite's automatic checkpoint at 1,000) with a tool's connection open beside it. */
function writeWithToolAttached(mode: "auto" | "external") {
  const dir = tempDir("wahook-wal-");
  dirs.push(dir);
  const file = join(dir, "wahook.db");
  const store = openStore(file, undefined, { walCheckpoint: mode });
  const tool = new Database(file, { readonly: true });
  tool.query("SELECT COUNT(*) FROM kv").get();
  const before = statSync(file).size;
  const insert = store.sqlite.query("INSERT INTO kv (key, value) VALUES (?, ?)");
  for (let i = 0; i < 1_500; i++) insert.run(`k${i}`, "x".repeat(3_000));
  const afterWrites = statSync(file).size;
  store.close();
  const afterClose = { db: statSync(file).size, wal: statSync(`${file}-wal`, { throwIfNoEntry: false })?.size ?? 0 };
  tool.close();
  return { before, afterWrites, afterClose, autocheckpoint: mode };
}

test("external: the database file does not grow, the WAL keeps every frame, also after close", () => {
  const r = writeWithToolAttached("external");
  expect(r.afterWrites).toBe(r.before);
  expect(r.afterClose.db).toBe(r.before);
  expect(r.afterClose.wal).toBeGreaterThan(1_500 * 3_000);
});

test("auto (default): wahook checkpoints, and truncates the WAL when it closes", () => {
  const r = writeWithToolAttached("auto");
  expect(r.afterClose.db).toBeGreaterThan(r.before + 1_500 * 3_000);
  expect(r.afterClose.wal).toBe(0);
});

test("external: the connection's automatic checkpoint is off", () => {
  const dir = tempDir("wahook-wal-");
  dirs.push(dir);
  const store = openStore(join(dir, "wahook.db"), undefined, { walCheckpoint: "external" });
  expect(store.sqlite.query("PRAGMA wal_autocheckpoint").get()).toEqual({ wal_autocheckpoint: 0 });
  store.close();
});
