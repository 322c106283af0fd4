// The WAL checkpoint thread: it starts when the database is written, does the
// checkpoints (the main connection's own automatic checkpoint is pushed out of the way
// meanwhile), ends when writes stop, and if it cannot run the main connection simply
// checkpoints as SQLite does by default. Data written meanwhile is all there.
import { afterEach, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createLogger } from "../../src/log.ts";
import { WalCheckpointer } from "../../src/store/checkpointer.ts";
import { openStore, type Store } from "../../src/store/db.ts";
import { tempDir } from "../support/app.ts";
import { waitUntil } from "../support/wait.ts";

let dir: string;
let store: Store;
let checkpointer: WalCheckpointer | null = null;
const warnings: { msg: string; fields?: Record<string, unknown> }[] = [];
const log = createLogger("warn", (line) => warnings.push(JSON.parse(line)));

function open(opts: ConstructorParameters<typeof WalCheckpointer>[4] = {}): WalCheckpointer {
  dir = tempDir("wahook-ckpt-");
  store = openStore(join(dir, "wahook.db"));
  store.sqlite.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)");
  checkpointer = new WalCheckpointer(join(dir, "wahook.db"), store, "normal", log, { lookMs: 20, intervalMs: 10, idleMs: 200, ...opts });
  return checkpointer;
}

/** Many small commits, as live traffic makes them. */
async function write(commits: number, from = 0): Promise<void> {
  const insert = store.sqlite.query("INSERT INTO t (id, v) VALUES (?, ?)");
  for (let i = from; i < from + commits; i++) {
    store.sqlite.transaction(() => insert.run(i, "x".repeat(2000))).immediate();
    if (i % 50 === 49) await Bun.sleep(1);
  }
}

const autoPages = () => (store.sqlite.query("PRAGMA wal_autocheckpoint").get() as { wal_autocheckpoint: number }).wal_autocheckpoint;

afterEach(() => {
  checkpointer?.stop();
  checkpointer = null;
  store.close();
  rmSync(dir, { recursive: true, force: true });
  warnings.length = 0;
});

test("no writes, no thread: an idle daemon does not carry it", async () => {
  const c = open();
  c.start();
  // Four looks (every 20 ms) that found no writes.
  await Bun.sleep(80);
  expect(c.running).toBe(false);
  expect(c.starts).toBe(0);
  expect(autoPages()).toBe(1000);
});

test("writes start the thread, it checkpoints them, and it ends once they stop", async () => {
  const c = open();
  c.start();
  await write(2_000);
  expect(c.running).toBe(true);
  expect(c.starts).toBe(1);
  // Meanwhile the main connection checkpoints only as a safety net, far later than 1,000 pages.
  expect(autoPages()).toBe(4000);
  await waitUntil(() => c.framesCheckpointed > 0, 5_000, "the thread checkpointed");
  // 2,000 rows of 2 KB are about 1,000 pages: the thread copied most of them.
  await waitUntil(() => c.framesCheckpointed >= 900, 5_000, `frames checkpointed: ${c.framesCheckpointed}`);
  await waitUntil(() => !c.running, 5_000, "the thread ended when writes stopped");
  expect(autoPages()).toBe(1000);
  // More writes later start it again.
  await write(200, 2_000);
  await waitUntil(() => c.starts === 2, 5_000, "a second start");
  expect(warnings).toEqual([]);
});

test("everything written while the thread checkpoints is in the file after close", async () => {
  const c = open();
  c.start();
  await write(3_000);
  await waitUntil(() => c.framesCheckpointed > 0, 5_000, "the thread checkpointed");
  c.stop();
  store.close();
  const again = new Database(join(dir, "wahook.db"), { readonly: true });
  expect(again.query("SELECT COUNT(*) AS n FROM t").get()).toEqual({ n: 3_000 });
  expect(again.query("PRAGMA integrity_check").get()).toEqual({ integrity_check: "ok" });
  again.close();
  store = openStore(join(dir, "wahook.db"));
});

test("a thread that cannot run: one warning, and the main connection checkpoints by itself", async () => {
  const brokenDir = tempDir("wahook-ckpt-broken-");
  const broken = join(brokenDir, "broken.ts");
  writeFileSync(broken, "throw new Error('no checkpoints here');\n");
  const c = open({ threadUrl: Bun.pathToFileURL(broken).href });
  c.start();
  await write(300);
  await waitUntil(() => warnings.length > 0, 5_000, "the failure was logged");
  expect(warnings).toHaveLength(1);
  expect(warnings[0]!.msg).toContain("WAL checkpoints stay on the main thread");
  expect(c.running).toBe(false);
  expect(autoPages()).toBe(1000);
  // Writes go on, and the WAL stays bounded by SQLite's own checkpoints (about 4 MB).
  await write(3_000, 300);
  expect(statSync(join(dir, "wahook.db-wal")).size).toBeLessThan(8 * 1024 * 1024);
  expect(c.starts).toBe(1);
  rmSync(brokenDir, { recursive: true, force: true });
});
