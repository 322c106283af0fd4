// Signal keys through the group commit: a turn's changes are read back at once, written at
// its end (only the last value of each key), never lost to a failed piece, and keys the
// database does not have are not asked for again until someone writes them.
import { afterEach, beforeEach, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import type { Database } from "bun:sqlite";
import { createLogger } from "../../src/log.ts";
import { insertAccount } from "../../src/store/accounts.ts";
import { openStore, type Store } from "../../src/store/db.ts";
import { GroupCommit } from "../../src/store/groupCommit.ts";
import { readKeys } from "../../src/store/waAuth.ts";
import { storedAuthState } from "../../src/wa/authState.ts";
import { TtlCache } from "../../src/wa/ttlCache.ts";
import { tempDir } from "../support/app.ts";

let dir: string;
let store: Store;
let commit: GroupCommit;
let account: string;
const log = createLogger("error", () => {});

beforeEach(() => {
  dir = tempDir("wahook-auth-");
  store = openStore(join(dir, "wahook.db"));
  commit = new GroupCommit(store, log);
  account = insertAccount(store, { name: "Sales", email: null }).id;
});

afterEach(() => {
  commit.close();
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const turn = () => new Promise((resolve) => setImmediate(resolve));
/**
 * Records the arguments of every `method` call of statements whose SQL starts with
 * `prefix`, by wrapping the connection's `query` (each cached statement once).
 */
function recordCalls(sqlite: Database, prefix: string, method: "get" | "run"): unknown[][] {
  const calls: unknown[][] = [];
  const wrapped = new WeakSet<object>();
  const query = sqlite.query.bind(sqlite);
  sqlite.query = ((sql: string) => {
    const statement = query(sql);
    if (sql.trimStart().startsWith(prefix) && !wrapped.has(statement)) {
      wrapped.add(statement);
      const original = statement[method].bind(statement) as (...args: never[]) => unknown;
      statement[method] = ((...args: never[]) => {
        calls.push(args);
        return original(...args);
      }) as never;
    }
    return statement;
  }) as typeof sqlite.query;
  return calls;
}

function authState(opts: { absent?: TtlCache; commit?: GroupCommit | null } = {}) {
  // A fresh key cache each time: what is asked for reaches our store, not Baileys' cache.
  return storedAuthState(store, account, new TtlCache(60_000), opts.commit === null ? undefined : (opts.commit ?? commit), opts.absent);
}

const stored = (type: string, ids: string[]) => Object.fromEntries(readKeys(store, account, type, ids));

test("a turn's key changes are read back before the commit and written at its end, only the last value of each", async () => {
  const { state } = authState();
  const writes = recordCalls(store.sqlite, "INSERT INTO wa_keys", "run");
  for (let i = 1; i <= 20; i++) await state.keys.set({ session: { "111.0": { counter: i } as never } });
  await state.keys.set({ session: { "222.0": { counter: 1 } as never } });
  // Not written yet, but read back as the latest value.
  expect(stored("session", ["111.0", "222.0"])).toEqual({});
  expect(await state.keys.get("session", ["111.0", "222.0"])).toEqual({ "111.0": { counter: 20 }, "222.0": { counter: 1 } } as never);
  await turn();
  expect(stored("session", ["111.0", "222.0"])).toEqual({ "111.0": JSON.stringify({ counter: 20 }), "222.0": JSON.stringify({ counter: 1 }) });
  // One upsert per key, not one per change.
  expect(writes.map((w) => w[2]).sort()).toEqual(["111.0", "222.0"]);
  expect(commit.commits).toBe(1);
});

test("a key deleted in the turn is gone for readers at once and from the database at its end", async () => {
  const { state } = authState();
  await state.keys.set({ "pre-key": { "7": { public: "a", private: "b" } as never } });
  await turn();
  expect(Object.keys(stored("pre-key", ["7"]))).toEqual(["7"]);
  await state.keys.set({ "pre-key": { "7": null } });
  // (Baileys' own cache answers null for a key deleted through it: "no key" either way.)
  expect((await state.keys.get("pre-key", ["7"]))["7"] ?? null).toBeNull();
  await turn();
  expect(stored("pre-key", ["7"])).toEqual({});
});

test("changes made after a turn's write are written with the next commit, not dropped", async () => {
  const { state } = authState();
  await state.keys.set({ session: { a: { v: 1 } as never } });
  await turn();
  await state.keys.set({ session: { a: { v: 2 } as never } });
  await turn();
  expect(stored("session", ["a"])).toEqual({ a: JSON.stringify({ v: 2 }) });
  expect(commit.commits).toBe(2);
});

test("a key write that fails is kept and written with the next change", async () => {
  const { state } = authState();
  store.sqlite.exec(`CREATE TRIGGER refuse BEFORE INSERT ON wa_keys WHEN NEW.id = 'bad' BEGIN SELECT RAISE(ABORT, 'refused'); END`);
  await state.keys.set({ session: { good: { v: 1 } as never, bad: { v: 1 } as never } });
  await turn();
  // The piece was rolled back whole (a half-written Signal batch is worse than none)...
  expect(stored("session", ["good", "bad"])).toEqual({});
  // ...and is still what readers see.
  expect(await state.keys.get("session", ["good"])).toEqual({ good: { v: 1 } } as never);
  store.sqlite.exec("DROP TRIGGER refuse");
  await state.keys.set({ session: { other: { v: 1 } as never } });
  await turn();
  expect(Object.keys(stored("session", ["good", "bad", "other"])).sort()).toEqual(["bad", "good", "other"]);
});

test("a key the database lacks is asked for once; a write makes it found again", async () => {
  const absent = new TtlCache(60_000);
  const reads = recordCalls(store.sqlite, "SELECT value FROM wa_keys", "get");
  const { state } = authState({ absent });
  for (let i = 0; i < 5; i++) expect(await state.keys.get("device-list", ["555"])).toEqual({});
  expect(reads).toHaveLength(1);
  await state.keys.set({ "device-list": { "555": ["0", "1"] as never } });
  await turn();
  // Another socket of the account (same caches) finds it in the database.
  const next = authState({ absent });
  expect(await next.state.keys.get("device-list", ["555"])).toEqual({ "555": ["0", "1"] } as never);
});

test("without a group commit, keys are written at once (pairing, tests)", async () => {
  const { state } = authState({ commit: null });
  await state.keys.set({ "sender-key": { g: { k: 1 } as never } });
  expect(stored("sender-key", ["g"])).toEqual({ g: JSON.stringify({ k: 1 }) });
});
