import { describe, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { signatureHeaders } from "../../src/delivery/sign.ts";
import { newSecret } from "../../src/store/webhooks.ts";

const UA = "wahook/0.1.0";
const OLD = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const NEW = "whsec_" + Buffer.alloc(32, 7).toString("base64");

// Computed here without the code under test: HMAC-SHA256 over "<id>.<ts>.<body>".
function expected(secret: string, id: string, ts: number, body: string): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  return "v1," + createHmac("sha256", key).update(`${id}.${ts}.${body}`).digest("base64");
}

describe("signatureHeaders", () => {
  test("matches the published Standard Webhooks test vector", () => {
    const headers = signatureHeaders({
      id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
      timestamp: 1614265330,
      body: '{"test": 2432232314}',
      secrets: [OLD],
      userAgent: UA,
    });
    expect(headers["webhook-signature"]).toBe("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  });

  const cases: { name: string; id: string; ts: number; body: string; secrets: string[] }[] = [
    { name: "one secret", id: "evt_1", ts: 1715150681, body: '{"a":1}', secrets: [NEW] },
    { name: "empty body", id: "evt_2", ts: 0, body: "", secrets: [NEW] },
    { name: "non-ASCII body signs UTF-8 bytes", id: "evt_3", ts: 1715150681, body: '{"text":"olá 👋 مرحبا"}', secrets: [NEW] },
    { name: "secret without prefix", id: "evt_4", ts: 1, body: "{}", secrets: [NEW.slice(6)] },
    { name: "rotation: new then old", id: "evt_5", ts: 1715150681, body: '{"b":2}', secrets: [NEW, OLD] },
  ];
  test.each(cases)("$name", ({ id, ts, body, secrets }) => {
    expect(signatureHeaders({ id, timestamp: ts, body, secrets, userAgent: UA })).toEqual({
      "webhook-id": id,
      "webhook-timestamp": String(ts),
      "webhook-signature": secrets.map((s) => expected(s, id, ts, body)).join(" "),
      "content-type": "application/json",
      "user-agent": UA,
    });
  });

  test("the same secret listed twice signs once", () => {
    const h = signatureHeaders({ id: "e", timestamp: 5, body: "{}", secrets: [NEW, NEW], userAgent: UA });
    expect(h["webhook-signature"]).toBe(expected(NEW, "e", 5, "{}"));
  });

  const invalid: { name: string; timestamp: number; secrets: string[]; error: RegExp }[] = [
    { name: "no secret", timestamp: 1, secrets: [], error: /at least one secret/ },
    { name: "fractional seconds", timestamp: 1.5, secrets: [NEW], error: /whole unix seconds/ },
    { name: "negative timestamp", timestamp: -1, secrets: [NEW], error: /whole unix seconds/ },
    { name: "empty key", timestamp: 1, secrets: ["whsec_"], error: /empty key/ },
  ];
  test.each(invalid)("refuses $name", ({ timestamp, secrets, error }) => {
    expect(() => signatureHeaders({ id: "e", timestamp, body: "{}", secrets, userAgent: UA })).toThrow(error);
  });
});

describe("verification with the standardwebhooks package", () => {
  const now = () => Math.floor(Date.now() / 1000);
  const body = JSON.stringify({ chat_id: "15550100000@c.us", message: { text: "hi" } });

  test.each([
    { name: "single secret", signWith: [NEW], verifyWith: NEW },
    { name: "rotation, receiver still on the old secret", signWith: [NEW, OLD], verifyWith: OLD },
    { name: "rotation, receiver already on the new secret", signWith: [NEW, OLD], verifyWith: NEW },
  ])("$name passes", ({ signWith, verifyWith }) => {
    const headers = signatureHeaders({ id: "evt_ok", timestamp: now(), body, secrets: signWith, userAgent: UA });
    expect(new Webhook(verifyWith).verify(body, headers)).toEqual(JSON.parse(body));
  });

  test.each([
    { name: "a secret that did not sign", secret: newSecret(), mutate: (b: string) => b },
    { name: "a body changed in transit", secret: NEW, mutate: (b: string) => b.replace("hi", "ho") },
  ])("$name fails", ({ secret, mutate }) => {
    const headers = signatureHeaders({ id: "evt_bad", timestamp: now(), body, secrets: [NEW, OLD], userAgent: UA });
    expect(() => new Webhook(secret).verify(mutate(body), headers)).toThrow("No matching signature found");
  });
});

describe("newSecret", () => {
  test("is whsec_ + base64 of 32 random bytes, usable by receivers", () => {
    const a = newSecret();
    const b = newSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(a.slice(6), "base64")).toHaveLength(32);
    expect(a).not.toBe(b);
    const headers = signatureHeaders({ id: "e", timestamp: Math.floor(Date.now() / 1000), body: "{}", secrets: [a], userAgent: UA });
    expect(() => new Webhook(a).verify("{}", headers)).not.toThrow();
  });
});
