// A message WhatsApp delivers before the linked device can decrypt it arrives first as a
// `ciphertext` placeholder and then, after a retry, with its content under the same id.
// The content must reach the webhook; the placeholder alone only when no content follows
// within the grace period. Rows and timings as the worker will see them.
import { beforeEach, describe, expect, test } from "bun:test";
import { ingestHistory } from "../../src/ingest/history.ts";
import { ingestMessage, type IngestDeps } from "../../src/ingest/ingest.ts";
import type { Store } from "../../src/store/db.ts";
import { getMessage } from "../../src/store/messages.ts";
import { storePerTest } from "../support/store.ts";
import { textMessage } from "../support/delivery.ts";

const GRACE = 15_000;
const db = storePerTest("wahook-ciphertext-");
let store: Store;
let deps: IngestDeps;

beforeEach(() => {
  store = db.store;
  for (const id of ["wh_a", "wh_b"]) {
    store.sqlite.query(`INSERT INTO webhooks (id, url, events, secret) VALUES (?, 'http://127.0.0.1:9/', '["message.received"]', 's')`).run(id);
  }
  deps = { store, wake() {}, decryptGraceMs: GRACE };
});

const stub = (id: string, over = {}) => textMessage({ id, type: "ciphertext", text: null, ...over });
const content = (id: string, over = {}) => textMessage({ id, type: "chat", text: "the real text", ...over });

interface Row {
  id: string;
  webhook_id: string;
  status: string;
  available_at: number;
  message_rowid: number;
}
const rows = () => store.sqlite.query<Row, []>("SELECT id, webhook_id, status, available_at, message_rowid FROM outbox ORDER BY rowid").all();
const stored = () => store.sqlite.query<{ type: string; message_id: string; chat_id: string }, []>("SELECT type, message_id, chat_id FROM messages").all();

describe("live", () => {
  test("a placeholder alone is held for the grace period, then goes out as ciphertext", () => {
    const before = Date.now();
    expect(ingestMessage(deps, stub("A1"))).toEqual({ stored: true, enqueued: 2 });
    for (const r of rows()) {
      expect(r.status).toBe("pending");
      expect(r.available_at).toBeGreaterThanOrEqual(before + GRACE);
      expect(r.available_at).toBeLessThanOrEqual(Date.now() + GRACE);
    }
    expect(stored()).toEqual([{ type: "ciphertext", message_id: "A1", chat_id: "491701234567@c.us" }]);
  });

  test("the content within the grace period replaces it: the same rows, due now, sending the content", () => {
    ingestMessage(deps, stub("A2"));
    const held = rows();
    const before = Date.now();
    expect(ingestMessage(deps, content("A2"))).toEqual({ stored: true, enqueued: 2 });
    const after = rows();
    expect(after.map((r) => r.id)).toEqual(held.map((r) => r.id));
    for (const r of after) expect(r.available_at).toBeLessThanOrEqual(Date.now());
    for (const r of after) expect(r.available_at).toBeGreaterThanOrEqual(before);
    expect(stored()).toEqual([{ type: "chat", message_id: "A2", chat_id: "491701234567@c.us" }]);
    expect(getMessage(store, after[0]!.message_rowid)).toMatchObject({ id: "A2", type: "chat", text: "the real text" });
  });

  test("content after the placeholder went out: a new row per webhook, the same message id", () => {
    ingestMessage(deps, stub("A3"));
    store.sqlite.run("UPDATE outbox SET status = 'delivered'");
    expect(ingestMessage(deps, content("A3"))).toEqual({ stored: true, enqueued: 2 });
    const all = rows();
    expect(all.map((r) => r.status)).toEqual(["delivered", "delivered", "pending", "pending"]);
    expect(new Set(all.map((r) => r.message_rowid)).size).toBe(1);
  });

  test("content while the placeholder is being sent: it goes out after it, not lost", () => {
    ingestMessage(deps, stub("A4"));
    store.sqlite.run("UPDATE outbox SET status = 'in_flight'");
    expect(ingestMessage(deps, content("A4")).enqueued).toBe(2);
    expect(rows().map((r) => r.status)).toEqual(["in_flight", "in_flight", "pending", "pending"]);
  });

  test("the placeholder's chat was a LID, the content's a phone: still the same message", () => {
    ingestMessage(deps, stub("A5", { chatId: "98765432109876@lid" }));
    ingestMessage(deps, content("A5"));
    expect(stored()).toEqual([{ type: "chat", message_id: "A5", chat_id: "98765432109876@lid" }]);
    expect(rows()).toHaveLength(2);
  });

  test("a placeholder after the content (or twice) changes nothing", () => {
    ingestMessage(deps, content("A6"));
    expect(ingestMessage(deps, stub("A6"))).toEqual({ stored: false, enqueued: 0 });
    ingestMessage(deps, stub("A7"));
    expect(ingestMessage(deps, stub("A7"))).toEqual({ stored: false, enqueued: 0 });
    expect(stored().map((m) => m.type)).toEqual(["chat", "ciphertext"]);
    expect(rows()).toHaveLength(4);
  });

  test("the same content twice after a placeholder is stored and queued once", () => {
    ingestMessage(deps, stub("A8"));
    ingestMessage(deps, content("A8"));
    expect(ingestMessage(deps, content("A8"))).toEqual({ stored: false, enqueued: 0 });
    expect(rows()).toHaveLength(2);
  });

  test("grace 0 sends a placeholder at once", () => {
    const now = Date.now();
    ingestMessage({ ...deps, decryptGraceMs: 0 }, stub("A9"));
    for (const r of rows()) expect(r.available_at).toBeLessThanOrEqual(now + 50);
  });
});

describe("history applies the same rule", () => {
  const history = { store: null as unknown as Store, mediaMaxBytes: 1e6, settleMs: 5_000, autoRatePerS: 20 };

  test("a placeholder from history or live is replaced by content from history; nothing is queued", () => {
    ingestMessage(deps, stub("H1"));
    ingestHistory({ ...history, store }, "acc_test", [stub("H2")]);
    const result = ingestHistory({ ...history, store }, "acc_test", [content("H1"), content("H2")]);
    expect(result.stored).toBe(2);
    expect(stored().map((m) => `${m.message_id} ${m.type}`).sort()).toEqual(["H1 chat", "H2 chat"]);
    // Only the live placeholder's own rows, which now send the content.
    expect(rows()).toHaveLength(2);
  });

  test("a placeholder in history never overwrites stored content", () => {
    ingestHistory({ ...history, store }, "acc_test", [content("H3")]);
    expect(ingestHistory({ ...history, store }, "acc_test", [stub("H3")]).duplicates).toBe(1);
    expect(stored()[0]!.type).toBe("chat");
  });
});
