// Endpoint slots: how many rows an endpoint may start (max_concurrency, rate_limit_per_s),
// and when a rate-limited endpoint should be looked at again.
import { describe, expect, test } from "bun:test";
import { EndpointSlots, type SlotLimits } from "../../src/delivery/slots.ts";

const T0 = 1_000_000;
const endpoint = (max: number, rate: number | null, id = "wh_1"): SlotLimits => ({ id, max_concurrency: max, rate_limit_per_s: rate });

/** Slots with `held` rows of `e` started at T0 (each offered as much room as it took). */
function holding(e: SlotLimits, held: number): EndpointSlots {
  const slots = new EndpointSlots();
  if (held) {
    expect(slots.room(e, T0)).toBeGreaterThanOrEqual(held);
    slots.started([{ endpoint: e, room: held, rows: { length: held } }], T0);
  }
  return slots;
}

describe("room", () => {
  const cases: [name: string, e: SlotLimits, held: number, afterMs: number, freeing: number, room: number][] = [
    ["nothing in flight, no rate limit: every slot", endpoint(4, null), 0, 0, 0, 4],
    ["some in flight", endpoint(4, null), 3, 0, 0, 1],
    ["all in flight", endpoint(4, null), 4, 0, 0, 0],
    ["all in flight, two of them being recorded with this claim", endpoint(4, null), 4, 0, 2, 2],
    ["rate below the free slots: the rate", endpoint(16, 5), 0, 0, 0, 5],
    ["rate above the free slots: the slots", endpoint(2, 50), 0, 0, 0, 2],
    ["tokens spent: none until one comes back", endpoint(16, 5), 5, 0, 0, 0],
    ["tokens spent, 200 ms later: one more (5 a second)", endpoint(16, 5), 5, 200, 0, 1],
    ["tokens spent, a second later: a full second's worth", endpoint(16, 5), 5, 1_000, 0, 5],
    ["a bucket never holds more than a second's worth", endpoint(16, 5), 0, 60_000, 0, 5],
    ["a rate under 1 a second still allows one at a time", endpoint(4, 0.5), 0, 0, 0, 1],
  ];
  test.each(cases)("%s", (_name, e, held, afterMs, freeing, room) => {
    expect(holding(e, held).room(e, T0 + afterMs, freeing)).toBe(room);
  });

  test("a changed rate applies at once; a removed one frees the endpoint from its bucket", () => {
    const slots = holding(endpoint(16, 5), 5);
    expect(slots.room(endpoint(16, 5), T0 + 200)).toBe(1);
    expect(slots.room(endpoint(16, 10), T0 + 400)).toBe(3);
    expect(slots.room(endpoint(16, null), T0 + 400)).toBe(11);
  });
});

describe("started: when to look again", () => {
  const cases: [name: string, e: SlotLimits, room: number, took: number, wakeMs: number | null][] = [
    ["no rate limit: the results that free slots wake the worker", endpoint(4, null), 4, 4, null],
    ["took fewer than offered: nothing more is due", endpoint(16, 5), 5, 3, null],
    ["held back by the rate, slots free: when the next token comes (5 a second)", endpoint(16, 5), 5, 5, 200],
    ["held back by slots and rate alike: the results wake it", endpoint(5, 5), 5, 5, null],
    ["held back by the slots only", endpoint(2, 50), 2, 2, null],
  ];
  test.each(cases)("%s", (_name, e, room, took, wakeMs) => {
    const slots = new EndpointSlots();
    expect(slots.room(e, T0)).toBeGreaterThanOrEqual(room);
    expect(slots.started([{ endpoint: e, room, rows: { length: took } }], T0)).toBe(wakeMs);
  });

  test("an endpoint whose tokens ran out is looked at again when one comes back", () => {
    const e = endpoint(16, 4);
    const slots = holding(e, 4);
    expect(slots.room(e, T0 + 100)).toBe(0);
    expect(slots.started([{ endpoint: e, room: 0, rows: { length: 0 } }], T0 + 100)).toBe(150);
  });

  test("the soonest of several endpoints", () => {
    const slow = endpoint(16, 2, "wh_slow");
    const fast = endpoint(16, 10, "wh_fast");
    const slots = new EndpointSlots();
    const claims = [slow, fast].map((e) => ({ endpoint: e, room: slots.room(e, T0), rows: { length: e.rate_limit_per_s! } }));
    expect(slots.started(claims, T0)).toBe(100);
  });
});

test("in flight: taken when a claim commits, given back per result", () => {
  const a = endpoint(4, null, "wh_a");
  const b = endpoint(4, null, "wh_b");
  const slots = new EndpointSlots();
  slots.started(
    [
      { endpoint: a, room: 4, rows: { length: 3 } },
      { endpoint: b, room: 4, rows: { length: 1 } },
    ],
    T0,
  );
  expect(slots.inFlight).toBe(4);
  slots.release("wh_a");
  slots.release("wh_b");
  expect(slots.inFlight).toBe(2);
  expect(slots.room(a, T0)).toBe(2);
  expect(slots.room(b, T0)).toBe(4);
});
