import { describe, expect, test } from "bun:test";
import { Webhook as Verifier } from "standardwebhooks";
import { deliveryHarness, textMessage, type Engine } from "../support/delivery.ts";
import { waitUntil } from "../support/wait.ts";

const t = deliveryHarness();
let e: Engine;

describe("live delivery", () => {
  test("one message, one signed request with the Cooby body, delivered row and attempt", async () => {
    e = t.engine();
    const hook = e.webhook({ url: t.sink.url("/in") });
    const m = textMessage();
    e.send(m);
    const [req] = await t.sink.waitFor(1);
    expect(req!.method).toBe("POST");
    expect(req!.path).toBe("/in");
    expect(req!.headers["content-type"]).toBe("application/json");
    expect(req!.headers["user-agent"]).toBe("wahook-test");
    const verified = new Verifier(hook.secret).verify(req!.body, req!.headers) as Record<string, any>;
    expect(verified).toMatchObject({
      event: "message.received",
      chat_id: m.chatId,
      chat_type: "individual",
      direction: "received",
      user_phone: "15550000001",
      user_email: "owner@example.com",
      account_id: "acc_test",
      history: false,
      seq: 1,
      timestamp: String(m.timestamp),
      message: { id: m.id, type: "chat", text: m.text },
    });
    await waitUntil(() => e.outbox()[0]?.status === "delivered");
    const attempts = e.store.sqlite.query("SELECT attempt, status_code, outcome, error_class FROM delivery_attempts").all();
    expect(attempts).toEqual([{ attempt: 1, status_code: 200, outcome: "delivered", error_class: null }]);
  });

  test("a message seen twice is delivered once", async () => {
    e = t.engine();
    e.webhook({ url: t.sink.url() });
    const m = textMessage();
    e.send(m);
    e.send({ ...m });
    await t.sink.waitFor(1);
    // One row, delivered: nothing is left that could go out again.
    await waitUntil(() => e.outbox().every((r) => r.status === "delivered"));
    expect(e.outbox()).toHaveLength(1);
    expect(t.sink.requests).toHaveLength(1);
  });

  test("events and accounts decide which webhooks get a message; history is stored, never sent at once", async () => {
    e = t.engine();
    e.webhook({ url: t.sink.url("/received"), events: ["message.received"] });
    e.webhook({ url: t.sink.url("/sent"), events: ["message.sent"] });
    e.webhook({ url: t.sink.url("/other-account"), events: ["message.received"], accountIds: ["acc_other"] });
    e.webhook({ url: t.sink.url("/history"), events: ["message.received"], includeHistory: true });
    e.send(textMessage());
    e.send(textMessage({ direction: "sent" }));
    e.send(textMessage({ history: true }));
    await t.sink.waitFor(3);
    // Three rows, all delivered: the history message was queued for nobody.
    await waitUntil(() => e.outbox().every((r) => r.status === "delivered"));
    expect(e.outbox()).toHaveLength(3);
    const got = t.sink.requests.map((r) => `${r.path} ${(r.json as any).event} ${(r.json as any).history}`).sort();
    // Even an include_history webhook gets history only through a (paced) backfill.
    expect(got).toEqual(["/history message.received false", "/received message.received false", "/sent message.sent false"]);
    expect(e.store.sqlite.query("SELECT COUNT(*) n FROM messages WHERE history = 1").get()).toEqual({ n: 1 });
  });

  test("a rotated secret: both signatures verify during the overlap", async () => {
    e = t.engine();
    const hook = e.webhook({ url: t.sink.url() });
    const { rotateWebhookSecret } = await import("../../src/store/webhooks.ts");
    const rotated = rotateWebhookSecret(e.store, hook.id)!;
    e.send(textMessage());
    const [req] = await t.sink.waitFor(1);
    expect(req!.headers["webhook-signature"]!.split(" ")).toHaveLength(2);
    expect(() => new Verifier(hook.secret).verify(req!.body, req!.headers)).not.toThrow();
    expect(() => new Verifier(rotated.secret).verify(req!.body, req!.headers)).not.toThrow();
  });
});
