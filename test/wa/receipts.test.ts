// A message is confirmed to WhatsApp only once it is stored. Baileys sends its receipt
// before it hands the message over; the frame gate holds that receipt until the commit
// that stores the message. Here the commit cannot happen (another connection holds the
// write lock): WhatsApp must see no receipt — it keeps the message — until the database
// takes writes again; then the message is stored, delivered and receipted.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { join } from "node:path";
import { startWaWorld, type WaWorld } from "../support/wa.ts";
import { waitUntil } from "../support/wait.ts";

const OWNER = "15550003501";
const ALICE = "4917012345501";
let w: WaWorld;

beforeAll(async () => {
  w = await startWaWorld({ seed: "wa-receipts" });
  await w.webhook();
  await w.pair(OWNER);
});
afterAll(() => w.close());

const unreceipted = () => [...w.emu.accounts.get(OWNER)!.devices.values()].flatMap((d) => [...d.unreceipted.keys()]);
const stored = (id: string) => w.daemon.store.sqlite.query("SELECT 1 FROM messages WHERE message_id = ?").get(id) !== null;

test("no receipt leaves before the message is committed; once the database takes writes, it is stored, delivered and receipted", async () => {
  // Warm: a first message goes through normally, receipt and all.
  const first = await w.emu.device(OWNER).sendText({ from: ALICE, text: "before" });
  await w.sink.waitFor((rs) => rs.some((r) => (r.json as { message?: { id: string } })?.message?.id === first.id), 10_000);
  await waitUntil(() => unreceipted().length === 0, 5_000, "first receipt");

  // The daemon's connection fails at once on a busy database instead of waiting 5 s.
  w.daemon.store.sqlite.exec("PRAGMA busy_timeout = 0");
  const refusedBefore = w.daemon.commit.refusedCommits;
  const other = new Database(join(w.dataDir, "wahook.db"));
  other.exec("BEGIN IMMEDIATE");
  try {
    const held = await w.emu.device(OWNER).sendText({ from: ALICE, text: "while the database is locked" });
    await waitUntil(() => w.daemon.commit.pending > 0, 5_000, "the message reached the daemon");
    // Refused twice: the daemon held the receipt through a retry, not only until its first try.
    await waitUntil(() => w.daemon.commit.refusedCommits >= refusedBefore + 2, 5_000, "commits refused while the database is locked");
    expect(stored(held.id)).toBe(false);
    expect(unreceipted()).toContain(held.id);
    other.exec("COMMIT");
    await waitUntil(() => stored(held.id), 5_000, "stored after the lock went");
    await waitUntil(() => unreceipted().length === 0, 5_000, "receipted after it was stored");
    await w.sink.waitFor((rs) => rs.some((r) => (r.json as { message?: { id: string } })?.message?.id === held.id), 10_000);
    // The first message's result, which the locked database refused, was recorded later,
    // not sent again: each message reached the receiver once.
    expect(w.sink.requests.map((r) => (r.json as { message: { id: string } }).message.id)).toEqual([first.id, held.id]);
  } finally {
    if (other.inTransaction) other.exec("ROLLBACK");
    other.close();
    w.daemon.store.sqlite.exec("PRAGMA busy_timeout = 5000");
  }
}, 30_000);
