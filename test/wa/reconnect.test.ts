// The close-code policy (spec/WHATSAPP.md "Connection lifecycle") as a table: what the
// session does for every code WhatsApp closes with, and how long it waits.
import { describe, expect, test } from "bun:test";
import { backoffMs, BACKOFF_CAP_MS, decideOnClose, type CloseDecision } from "../../src/wa/reconnect.ts";

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
