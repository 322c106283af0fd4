// Messages handed from ingest to the delivery worker in memory: only committed rows, once
// per queued row, and read from the table once used up or never remembered.
import { afterEach, beforeEach, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { ingestMessage } from "../../src/ingest/ingest.ts";
import { createLogger } from "../../src/log.ts";
import { accountContact, insertAccount, updateAccount } from "../../src/store/accounts.ts";
import { openStore, type Store } from "../../src/store/db.ts";
import { GroupCommit } from "../../src/store/groupCommit.ts";
import { getMessage, insertMessage, rememberMessage } from "../../src/store/messages.ts";
import { tempDir } from "../support/app.ts";
import { textMessage } from "../support/delivery.ts";

let dir: string;
let store: Store;

beforeEach(() => {
  dir = tempDir("wahook-messages-");
  store = openStore(join(dir, "wahook.db"));
});

afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const turn = () => new Promise((resolve) => setImmediate(resolve));

test("a remembered message is served from memory for its uses, then from the table", () => {
  const message = textMessage({ text: "hello" });
  const rowid = insertMessage(store.sqlite, message)!;
  rememberMessage(store.sqlite, rowid, message, 2);
  expect(getMessage(store.sqlite, rowid)).toBe(message);
  expect(getMessage(store.sqlite, rowid)).toBe(message);
  const third = getMessage(store.sqlite, rowid);
  expect(third).not.toBe(message);
  expect(third).toEqual(message);
  expect(getMessage(store.sqlite, rowid + 1)).toBeNull();
});

test("ingest remembers a live message only once its group commit is durable, with one use per webhook", async () => {
  for (const id of ["wh_a", "wh_b"]) {
    store.sqlite.query(`INSERT INTO webhooks (id, url, events, secret) VALUES (?, 'http://127.0.0.1:9/', '["message.received"]', 's')`).run(id);
  }
  const commit = new GroupCommit(store.sqlite, createLogger("error", () => {}));
  const deps = { store, wake() {}, whenCommitted: (fn: () => void) => commit.whenCommitted(fn) };
  const kept = textMessage({ text: "kept" });
  const dropped = textMessage({ text: "rolled back" });
  let keptRowid = 0;
  commit.defer("kept", () => {
    expect(ingestMessage(deps, kept)).toEqual({ stored: true, enqueued: 2 });
    keptRowid = store.sqlite.query<{ rowid: number }, []>("SELECT max(rowid) rowid FROM messages").get()!.rowid;
  });
  commit.defer("dropped", () => {
    ingestMessage(deps, dropped);
    throw new Error("the piece fails after the ingest");
  });
  await turn();
  commit.close();
  expect(store.sqlite.query("SELECT count(*) n FROM messages").get()).toEqual({ n: 1 });
  // Two webhooks: two reads from memory, then the table.
  expect(getMessage(store.sqlite, keptRowid)).toBe(kept);
  expect(getMessage(store.sqlite, keptRowid)).toBe(kept);
  expect(getMessage(store.sqlite, keptRowid)).not.toBe(kept);
  // The rolled-back message's rowid was never remembered (the next insert may take it).
  const next = insertMessage(store.sqlite, textMessage({ text: "next" }))!;
  expect(getMessage(store.sqlite, next)!.text).toBe("next");
});

test("an ingest outside a group commit remembers nothing (only the caller knows when it commits)", () => {
  store.sqlite.exec(`INSERT INTO webhooks (id, url, events, secret) VALUES ('wh_a', 'http://127.0.0.1:9/', '["message.received"]', 's')`);
  const message = textMessage({ text: "plain" });
  const commit = new GroupCommit(store.sqlite, createLogger("error", () => {}));
  expect(ingestMessage({ store, wake() {}, whenCommitted: (fn) => commit.whenCommitted(fn) }, message).stored).toBe(true);
  const rowid = store.sqlite.query<{ rowid: number }, []>("SELECT max(rowid) rowid FROM messages").get()!.rowid;
  expect(getMessage(store.sqlite, rowid)).not.toBe(message);
  expect(getMessage(store.sqlite, rowid)).toEqual(message);
});

test("the account's phone and e-mail in payloads follow an account update at once", () => {
  const id = insertAccount(store.db, { name: "Sales", email: "old@example.com" }).id;
  expect(accountContact(store.sqlite, id)).toEqual({ phone: null, email: "old@example.com" });
  updateAccount(store.db, id, { email: "new@example.com", phone: "15550001111" });
  expect(accountContact(store.sqlite, id)).toEqual({ phone: "15550001111", email: "new@example.com" });
  expect(accountContact(store.sqlite, "acc_missing")).toEqual({ phone: null, email: null });
});
