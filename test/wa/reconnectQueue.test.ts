// The reconnect queue on its own: how many handshakes run at once, who goes first, what an
// account without a file handle is told and when it gets one after all.
import { describe, expect, test } from "bun:test";
import { silentLogger, createLogger } from "../../src/log.ts";
import { LAG_HIGH_MS, MAX_WINDOW, MIN_WINDOW, nextWindow } from "../../src/wa/connectWindow.ts";
import { FdBudget } from "../../src/wa/fdBudget.ts";
import { ReconnectQueue } from "../../src/wa/reconnectQueue.ts";
import { waitUntil } from "../support/wait.ts";

/** A budget with room for `accounts` sockets: limit = in use + headroom (32 below 320) + accounts. */
const budgetFor = (accounts: number, countOpen?: () => number | null) => new FdBudget({ limit: 100 + 32 + accounts, inUse: 100, countOpen });
const unlimited = () => new FdBudget({ limit: null, inUse: 0 });

function harness(opts: { window?: number; budget?: FdBudget; activity?: Record<string, number>; retryMs?: number; log?: typeof silentLogger } = {}) {
  const started: string[] = [];
  const denied: string[] = [];
  const queue = new ReconnectQueue({
    budget: opts.budget ?? unlimited(),
    activity: (id) => opts.activity?.[id] ?? 0,
    log: opts.log ?? silentLogger,
    window: opts.window ?? 2,
    fixedWindow: true,
    jitterMs: 0,
    retryMs: opts.retryMs,
  });
  const ask = (id: string, urgent = false) => queue.request(id, urgent, { go: () => started.push(id), denied: () => denied.push(id) });
  return { queue, started, denied, ask };
}

describe("the window", () => {
  test("at most `window` handshakes at once; each settle lets the next one start", async () => {
    const { queue, started, ask } = harness({ window: 2 });
    for (const id of ["a", "b", "c", "d", "e"]) ask(id);
    await waitUntil(() => started.length === 2);
    await Bun.sleep(20);
    expect(started).toEqual(["a", "b"]);
    queue.settled("a");
    await waitUntil(() => started.length === 3);
    expect(queue.stats).toMatchObject({ waiting: 2, connecting: 2 });
    queue.settled("b");
    queue.settled("c");
    await waitUntil(() => started.length === 5);
    expect(started).toEqual(["a", "b", "c", "d", "e"]);
  });

  test("most recently active first; an admin's request (urgent) before all of them", async () => {
    const { queue, started, ask } = harness({ window: 1, activity: { old: 1_000, newest: 3_000, middle: 2_000 } });
    ask("first");
    await waitUntil(() => started.length === 1);
    for (const id of ["never", "old", "newest", "middle"]) ask(id);
    ask("pairing", true);
    for (let i = 2; i <= 6; i++) {
      queue.settled(started.at(-1)!);
      await waitUntil(() => started.length === i);
    }
    expect(started).toEqual(["first", "pairing", "newest", "middle", "old", "never"]);
  });

  test("a turn that never settles stops holding up the line after holdMs", async () => {
    const started: string[] = [];
    const queue = new ReconnectQueue({ budget: unlimited(), activity: () => 0, log: silentLogger, window: 1, fixedWindow: true, jitterMs: 0, holdMs: 50 });
    for (const id of ["stuck", "next"]) queue.request(id, false, { go: () => started.push(id), denied: () => {} });
    await waitUntil(() => started.length === 2, 2_000);
    expect(started).toEqual(["stuck", "next"]);
  });

  test("asking again while waiting keeps one place in line; leaving gives it up", async () => {
    const { queue, started, ask } = harness({ window: 1 });
    ask("a");
    ask("b");
    ask("b");
    ask("c");
    queue.leave("c");
    await waitUntil(() => started.length === 1);
    queue.settled("a");
    await waitUntil(() => started.length === 2);
    queue.settled("b");
    await Bun.sleep(20);
    expect(started).toEqual(["a", "b"]);
  });
});

describe("the window follows the event loop", () => {
  test.each([
    ["a late tick halves it", 8, 80, true, 4],
    ["never below the minimum", MIN_WINDOW, 500, true, MIN_WINDOW],
    ["a punctual tick while accounts wait widens it by one", 8, 2, true, 9],
    ["never above the maximum", MAX_WINDOW, 0, true, MAX_WINDOW],
    ["punctual but nobody waits: as it is", 8, 2, false, 8],
    ["neither late nor punctual: as it is", 8, 20, true, 8],
  ])("%s", (_name, window, lag, saturated, expected) => {
    expect(nextWindow(window, lag, saturated)).toBe(expected);
  });

  test("an event loop held up while accounts wait narrows the window; once it runs freely the window grows back", async () => {
    const started: string[] = [];
    // Turns that never settle by themselves: the window stays full.
    const queue = new ReconnectQueue({ budget: unlimited(), activity: () => 0, log: silentLogger, window: 8, jitterMs: 0 });
    for (let i = 0; i < 40; i++) queue.request(`a${i}`, false, { go: () => started.push(`a${i}`), denied: () => {} });
    await waitUntil(() => started.length === 8);
    const until = performance.now() + LAG_HIGH_MS * 5;
    while (performance.now() < until) {} // a long synchronous stretch, as a burst of handshakes is
    await waitUntil(() => queue.stats.window < 8, 1_000, "window narrowed");
    const narrowed = queue.stats.window;
    await waitUntil(() => queue.stats.window > narrowed, 2_000, "window widened again");
    queue.stop();
  });
});

describe("file handles", () => {
  test("accounts past the budget are told once and wait; one that leaves hands its handle to the most recently active", async () => {
    const lines: string[] = [];
    const log = createLogger("warn", (l) => lines.push(l));
    const { queue, started, denied, ask } = harness({ window: 4, budget: budgetFor(2), activity: { c: 5, d: 9 }, log });
    for (const id of ["a", "b", "c", "d"]) ask(id);
    await waitUntil(() => started.length === 2);
    expect(started).toEqual(["d", "c"]);
    expect(denied.sort()).toEqual(["a", "b"]);
    expect(queue.hasRoom()).toBe(false);
    expect(queue.hasRoom("c")).toBe(true);
    expect([queue.isParked("a"), queue.isParked("c")]).toEqual([true, false]);
    // One warning for the lot, saying what to do.
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: "warn", limit: 134, accounts_connected: 2, accounts_waiting: 2 });

    // Reconnecting does not give a handle away: c settles, closes, asks again, goes again.
    queue.settled("c");
    ask("c");
    await waitUntil(() => started.length === 3);
    expect(started.at(-1)).toBe("c");

    queue.leave("d");
    await waitUntil(() => started.length === 4);
    expect(started.at(-1)).toBe("a");
    expect(denied).toHaveLength(2);
    expect(queue.stats).toMatchObject({ parked: 1, holding: 2, capacity: 2 });
  });

  test("parked accounts try again every retryMs, and get a handle once the process has one free", async () => {
    let open = 10_000;
    const budget = new FdBudget({ limit: 200, inUse: 20, countOpen: () => open });
    const { started, denied, ask } = harness({ budget, retryMs: 50 });
    ask("a");
    await waitUntil(() => denied.length === 1);
    expect(started).toEqual([]);
    open = 30;
    await waitUntil(() => started.length === 1, 2_000);
    expect(denied).toEqual(["a"]);
  });
});

describe("FdBudget", () => {
  test("capacity is the limit less what is in use and the headroom", () => {
    expect(new FdBudget({ limit: 1024, inUse: 15 }).capacity).toBe(1024 - 15 - 102);
    expect(new FdBudget({ limit: 64, inUse: 15 }).capacity).toBe(64 - 15 - 32);
    expect(new FdBudget({ limit: 1_048_576, inUse: 20 }).capacity).toBe(1_048_576 - 20 - 1024);
    expect(new FdBudget({ limit: 40, inUse: 15 }).capacity).toBe(0);
    expect(new FdBudget({ limit: null, inUse: 15 }).available).toBe(Number.POSITIVE_INFINITY);
  });

  test("a take fails when handles other work holds leave less than half the headroom free", () => {
    let open = 50;
    const budget = new FdBudget({ limit: 100, inUse: 20, countOpen: () => open });
    expect(budget.tryTake("a")).toBe(true);
    open = 100 - 16;
    expect(budget.tryTake("b")).toBe(false);
    expect(budget.tryTake("a")).toBe(true);
    open = Number.POSITIVE_INFINITY;
    expect(budget.tryTake("c")).toBe(false);
    expect(budget.give("a")).toBe(true);
    expect(budget.give("a")).toBe(false);
  });
});
