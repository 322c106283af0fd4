// Which row of a chat becomes claimable when one finishes (promoteNext): the row right
// after it in the common case, the chat's real head when that is not the next seq (a gap
// left by a deleted message, an older row replayed), and nothing when the chat is drained
// or has no per-chat order. Rows are checked as a receiver would feel them: only the head
// may go next.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { openStore, type Store } from "../../src/store/db.ts";
import { replayDeliveries } from "../../src/store/deliveries.ts";
import { claim, enqueue, finishRow, getOutboxRow, type ClaimedRow } from "../../src/store/outbox.ts";
import type { Ordering } from "../../src/domain.ts";
import { tempDir } from "../support/app.ts";

let dir: string;
let store: Store;

beforeEach(() => {
  dir = tempDir("wahook-outbox-");
  store = openStore(join(dir, "wahook.db"));
  store.sqlite.exec(`INSERT INTO webhooks (id, url, events, secret) VALUES ('wh_1', 'http://127.0.0.1:9/', '["webhook.test"]', 's')`);
});

afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Queues `n` rows of one chat; returns their ids by seq (1-based index = seq). */
function queue(n: number, ordering: Ordering = "per_chat", chat = "c1"): string[] {
  return Array.from({ length: n }, () => enqueue(store.sqlite, { webhookId: "wh_1", ordering, event: "webhook.test", accountId: null, chatKey: chat, messageRowid: null, data: {}, priority: 0 }).id);
}
const row = (id: string) => getOutboxRow(store.sqlite, id)!;
/** seq → "ready" / "waiting" / status, for the open rows; finished rows by status. */
const states = (ids: string[]) =>
  ids.map((id) => {
    const r = row(id);
    return r.status === "pending" ? (r.ready ? "ready" : "waiting") : r.status;
  });
const claimAll = () => claim(store.sqlite, "wh_1", 100, Date.now(), 60_000);
const finish = (r: ClaimedRow, status: "delivered" | "failed" = "delivered") => finishRow(store.sqlite, r, status, Date.now(), 200, null);

test.each([
  ["delivered", "delivered"],
  ["dead-lettered", "failed"],
] as const)("the next row becomes claimable when one is %s", (_, status) => {
  const ids = queue(4);
  expect(states(ids)).toEqual(["ready", "waiting", "waiting", "waiting"]);
  const [first] = claimAll();
  expect(first!.id).toBe(ids[0]!);
  finish(first!, status);
  expect(states(ids)).toEqual([status, "ready", "waiting", "waiting"]);
});

test("a gap (the next row was deleted with its message) promotes the first row after it", () => {
  const ids = queue(4);
  store.sqlite.query("DELETE FROM outbox WHERE id = ?").run(ids[1]!);
  finish(claimAll()[0]!);
  expect(states([ids[0]!, ids[2]!, ids[3]!])).toEqual(["delivered", "ready", "waiting"]);
});

test("an older row replayed while a later one was in flight stays the head: the row after the finished one waits", () => {
  const ids = queue(4);
  finish(claimAll()[0]!);
  const [second] = claimAll();
  expect(second!.id).toBe(ids[1]!);
  // Row 1 is sent again (an admin's replay) while row 2 is in flight.
  expect(replayDeliveries(store, "wh_1", "per_chat", { id: ids[0]! }, Date.now())).toBe(1);
  finish(second!);
  expect(states(ids)).toEqual(["ready", "delivered", "waiting", "waiting"]);
});

test("a drained chat promotes nothing; other chats are untouched", () => {
  const ids = queue(1);
  const other = queue(2, "per_chat", "c2");
  const rows = claimAll();
  finish(rows.find((r) => r.id === ids[0])!);
  expect(states(ids)).toEqual(["delivered"]);
  expect(states(other)).toEqual(["in_flight", "waiting"]);
});

test("without per-chat order every row is claimable from the start and stays so", () => {
  const ids = queue(3, "none");
  expect(states(ids)).toEqual(["ready", "ready", "ready"]);
  const rows = claimAll();
  expect(rows).toHaveLength(3);
  finish(rows[0]!);
  expect(states(ids)).toEqual(["delivered", "in_flight", "in_flight"]);
});

test("a long backlog moves one row at a time, in seq order", () => {
  const ids = queue(50);
  const order: string[] = [];
  for (let i = 0; i < 50; i++) {
    const rows = claimAll();
    expect(rows).toHaveLength(1);
    order.push(rows[0]!.id);
    finish(rows[0]!);
  }
  expect(order).toEqual(ids);
});

describe("claim order: live before history, then the longest due, then the order queued", () => {
  const at = Date.now() - 60_000;
  /** One row per chat (all heads); `label` in its data. */
  const put = (label: string, priority: number, availableAt: number) =>
    enqueue(store.sqlite, { webhookId: "wh_1", ordering: "per_chat", event: "webhook.test", accountId: null, chatKey: label, messageRowid: null, data: { label }, priority, availableAt });
  const labels = (rows: ClaimedRow[]) => rows.map((r) => (JSON.parse(r.data!) as { label: string }).label);

  test.each([
    ["priority first", [["history", 1, at], ["live", 0, at + 5_000]], ["live", "history"]],
    ["then due time", [["later", 0, at + 2_000], ["earlier", 0, at + 1_000]], ["earlier", "later"]],
    ["then the order queued", [["first", 0, at], ["second", 0, at], ["third", 0, at]], ["first", "second", "third"]],
    ["not yet due is left", [["due", 0, at], ["future", 0, Date.now() + 60_000]], ["due"]],
  ] as const)("%s", (_, rows, expected) => {
    for (const [label, priority, availableAt] of rows) put(label, priority, availableAt);
    // One at a time: the order rows are chosen in (a batch is started all at once).
    const chosen: string[] = [];
    for (let rows = claim(store.sqlite, "wh_1", 1, Date.now(), 60_000); rows.length; rows = claim(store.sqlite, "wh_1", 1, Date.now(), 60_000)) chosen.push(...labels(rows));
    expect(chosen).toEqual([...expected]);
  });

  test("a limit takes the best rows; the rest follow in the next claims", () => {
    put("h1", 1, at);
    put("l2", 0, at + 2);
    put("l1", 0, at + 1);
    put("h0", 1, at - 10);
    const take = (n: number) => labels(claim(store.sqlite, "wh_1", n, Date.now(), 60_000));
    expect(take(1)).toEqual(["l1"]);
    expect(take(2).sort()).toEqual(["h0", "l2"]);
    expect(take(5)).toEqual(["h1"]);
    expect(take(5)).toEqual([]);
  });

  test("only this webhook's ready, pending rows are claimed, each once", () => {
    store.sqlite.exec(`INSERT INTO webhooks (id, url, events, secret) VALUES ('wh_2', 'http://127.0.0.1:9/', '["webhook.test"]', 's')`);
    const mine = queue(2);
    enqueue(store.sqlite, { webhookId: "wh_2", ordering: "per_chat", event: "webhook.test", accountId: null, chatKey: "c9", messageRowid: null, data: {}, priority: 0 });
    const rows = claimAll();
    expect(rows.map((r) => r.id)).toEqual([mine[0]!]);
    expect(rows[0]!.attempts).toBe(1);
    expect(claimAll()).toEqual([]);
    expect(row(mine[0]!).status).toBe("in_flight");
  });
});
