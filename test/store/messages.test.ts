// Messages handed from ingest to the delivery worker in memory: only committed rows, once
// per queued row, and read from the table once used up or never remembered.
import { beforeEach, expect, test } from "bun:test";
import { ingestMessage } from "../../src/ingest/ingest.ts";
import { createLogger } from "../../src/log.ts";
import { accountContact, insertAccount, updateAccount } from "../../src/store/accounts.ts";
import type { Store } from "../../src/store/db.ts";
import { GroupCommit } from "../../src/store/groupCommit.ts";
import { getMessage, insertMessage, rememberMessage } from "../../src/store/messages.ts";
import { storePerTest } from "../support/store.ts";
import { textMessage } from "../support/delivery.ts";

const db = storePerTest("wahook-messages-");
let store: Store;
beforeEach(() => {
  store = db.store;
});

const turn = () => new Promise((resolve) => setImmediate(resolve));

test("a remembered message is served from memory for its uses, then from the table", () => {
  const message = textMessage({ text: "hello" });
  const rowid = insertMessage(store, message)!;
  rememberMessage(store, rowid, message, 2);
  expect(getMessage(store, rowid)).toBe(message);
  expect(getMessage(store, rowid)).toBe(message);
  const third = getMessage(store, rowid);
  expect(third).not.toBe(message);
  expect(third).toEqual(message);
  expect(getMessage(store, rowid + 1)).toBeNull();
});

test("ingest remembers a live message only once its group commit is durable, with one use per webhook", async () => {
  for (const id of ["wh_a", "wh_b"]) {
    store.sqlite.query(`INSERT INTO webhooks (id, url, events, secret) VALUES (?, 'http://127.0.0.1:9/', '["message.received"]', 's')`).run(id);
  }
  const commit = new GroupCommit(store, createLogger("error", () => {}));
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
  expect(getMessage(store, keptRowid)).toBe(kept);
  expect(getMessage(store, keptRowid)).toBe(kept);
  expect(getMessage(store, keptRowid)).not.toBe(kept);
  // The rolled-back message's rowid was never remembered (the next insert may take it).
  const next = insertMessage(store, textMessage({ text: "next" }))!;
  expect(getMessage(store, next)!.text).toBe("next");
});

test("an ingest outside a group commit remembers nothing (only the caller knows when it commits)", () => {
  store.sqlite.exec(`INSERT INTO webhooks (id, url, events, secret) VALUES ('wh_a', 'http://127.0.0.1:9/', '["message.received"]', 's')`);
  const message = textMessage({ text: "plain" });
  const commit = new GroupCommit(store, createLogger("error", () => {}));
  expect(ingestMessage({ store, wake() {}, whenCommitted: (fn) => commit.whenCommitted(fn) }, message).stored).toBe(true);
  const rowid = store.sqlite.query<{ rowid: number }, []>("SELECT max(rowid) rowid FROM messages").get()!.rowid;
  expect(getMessage(store, rowid)).not.toBe(message);
  expect(getMessage(store, rowid)).toEqual(message);
});

test("the account's phone and e-mail in payloads follow an account update at once", () => {
  const id = insertAccount(store, { name: "Sales", email: "old@example.com" }).id;
  expect(accountContact(store, id)).toEqual({ phone: null, email: "old@example.com" });
  updateAccount(store, id, { email: "new@example.com", phone: "15550001111" });
  expect(accountContact(store, id)).toEqual({ phone: "15550001111", email: "new@example.com" });
  expect(accountContact(store, "acc_missing")).toEqual({ phone: null, email: null });
});
