// The close-code policy (src/wa/reconnect.ts; README "Operator events") as a table: what the
// session does for every code WhatsApp closes with, and how long it waits.
import { describe, expect, test } from "bun:test";
import { backoffMs, BACKOFF_CAP_MS, decideOnClose, transportCause, type CloseDecision } from "../../src/wa/reconnect.ts";

/** random() = 0.5 is no jitter; 0 is the lowest (-20 %), just under 1 the highest (+20 %). */
const NO_JITTER = () => 0.5;

describe("decideOnClose", () => {
  const cases: [string, number | undefined, { failures: number; paired: boolean }, Partial<CloseDecision>][] = [
    ["515 restart required (after a scan): at once, not a failure", 515, { failures: 0, paired: true }, { action: "reconnect", delayMs: 0 }],
    ["515 even after many failures: still at once", 515, { failures: 9, paired: true }, { action: "reconnect", delayMs: 0 }],
    ["401 device removed on the phone", 401, { failures: 1, paired: true }, { action: "logged_out" }],
    ["440 another client took over: stop, no loop", 440, { failures: 1, paired: true }, { action: "conflict" }],
    ["405 client version refused: refresh, then back off", 405, { failures: 1, paired: true }, { action: "refresh_version", delayMs: 1_000 }],
    ["408 while paired: a timeout, reconnect", 408, { failures: 1, paired: true }, { action: "reconnect", delayMs: 1_000 }],
    ["408 before pairing: QR refs ran out, stop until asked", 408, { failures: 1, paired: false }, { action: "pairing_expired" }],
    ["428 connection closed", 428, { failures: 1, paired: true }, { action: "reconnect", delayMs: 1_000 }],
    ["500 bad session", 500, { failures: 2, paired: true }, { action: "reconnect", delayMs: 2_000 }],
    ["503 WhatsApp unavailable", 503, { failures: 3, paired: true }, { action: "reconnect", delayMs: 4_000 }],
    ["no code (network error, watchdog)", undefined, { failures: 4, paired: true }, { action: "reconnect", delayMs: 8_000 }],
    ["an unknown code", 499, { failures: 1, paired: false }, { action: "reconnect", delayMs: 1_000 }],
  ];
  test.each(cases)("%s", (_name, code, ctx, expected) => {
    const decision = decideOnClose(code, { ...ctx, random: NO_JITTER });
    expect(decision).toMatchObject(expected);
    // The reason is what GET /v1/accounts/{id} shows as last_disconnect.reason.
    expect(decision.reason.length).toBeGreaterThan(5);
  });

  test("the reason of an unknown code names it; of no code, says network", () => {
    expect(decideOnClose(499, { failures: 1, paired: true }).reason).toContain("499");
    expect(decideOnClose(undefined, { failures: 1, paired: true }).reason).toContain("network");
  });
});

describe("a socket that never reached WhatsApp (no QR, no login)", () => {
  const refused = "WebSocket Error (connect ECONNREFUSED 127.0.0.1:443)";
  const cases: [string, number | undefined, boolean, string | null, Partial<CloseDecision>][] = [
    // Baileys reports a refused or unresolvable endpoint as 408 or 428, like a QR nobody scanned.
    ["408 before pairing, refused: keep trying, not 'QR not scanned'", 408, false, refused, { action: "reconnect", delayMs: 1_000, reason: "cannot reach WhatsApp: connect ECONNREFUSED 127.0.0.1:443", unreachable: { cause: "connect ECONNREFUSED 127.0.0.1:443" } }],
    ["428 while paired, DNS", 428, true, "WebSocket Error (getaddrinfo ENOTFOUND web.whatsapp.com)", { action: "reconnect", unreachable: { cause: "getaddrinfo ENOTFOUND web.whatsapp.com" } }],
    ["the watchdog: no answer at all", undefined, true, "no answer within 30 s", { action: "reconnect", unreachable: { cause: "no answer within 30 s" } }],
    ["no message at all", undefined, false, null, { action: "reconnect", unreachable: { cause: "no answer" } }],
    // These only come from WhatsApp itself: it was reached.
    ["401 is WhatsApp's own answer", 401, true, null, { action: "logged_out" }],
    ["440 is WhatsApp's own answer", 440, true, null, { action: "conflict" }],
    ["515 is WhatsApp's own answer", 515, true, null, { action: "reconnect", delayMs: 0 }],
  ];
  test.each(cases)("%s", (_name, code, paired, message, expected) => {
    expect(decideOnClose(code, { failures: 1, paired, reached: false, message, random: NO_JITTER })).toMatchObject(expected);
  });

  test("a socket that showed a QR and then timed out did expire", () => {
    expect(decideOnClose(408, { failures: 1, paired: false, reached: true, message: "QR refs attempts ended" })).toMatchObject({ action: "pairing_expired" });
  });

  test.each([
    ["WebSocket Error (self-signed certificate)", "self-signed certificate"],
    ["Opening handshake has timed out", "Opening handshake has timed out"],
    ["", "no answer"],
  ])("transportCause(%p) = %p", (message, cause) => {
    expect(transportCause(message)).toBe(cause);
  });
});

describe("backoffMs", () => {
  test.each([
    [1, 1_000],
    [2, 2_000],
    [3, 4_000],
    [5, 16_000],
    [9, 256_000],
    // 2^9 s = 512 s would pass the cap.
    [10, 300_000],
    [50, 300_000],
    // Before the first failure there is nothing to double.
    [0, 1_000],
  ])("failure %i waits %i ms without jitter", (failures, ms) => {
    expect(backoffMs(failures, NO_JITTER)).toBe(ms);
  });

  test.each([
    ["lowest", () => 0, 0.8],
    ["highest", () => 0.999_999, 1.2],
  ])("jitter is ±20 %%: %s", (_name, random, factor) => {
    expect(backoffMs(3, random)).toBeCloseTo(4_000 * factor, -1);
    expect(backoffMs(20, random)).toBeCloseTo(BACKOFF_CAP_MS * factor, -1);
  });

  test("with real randomness every wait stays within ±20 % of its step", () => {
    for (let failures = 1; failures <= 12; failures++) {
      const step = Math.min(BACKOFF_CAP_MS, 1_000 * 2 ** (failures - 1));
      for (let i = 0; i < 50; i++) {
        const ms = backoffMs(failures);
        expect(ms).toBeGreaterThanOrEqual(step * 0.8);
        expect(ms).toBeLessThanOrEqual(step * 1.2);
      }
    }
  });
});
