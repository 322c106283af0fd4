// The per-account cache handed to Baileys instead of a NodeCache per socket.
import { expect, test } from "bun:test";
import { TtlCache } from "../../src/wa/ttlCache.ts";

test("a value lives for its TTL, then reads as absent and is dropped", () => {
  let now = 1_000;
  const cache = new TtlCache(100, 10, () => now);
  cache.set("a", { n: 1 });
  now = 1_099;
  expect(cache.get("a")).toEqual({ n: 1 });
  now = 1_100;
  expect(cache.get("a")).toBeUndefined();
  expect(cache.size).toBe(0);
});

test("setting again renews the TTL; del and flushAll remove", () => {
  let now = 0;
  const cache = new TtlCache(100, 10, () => now);
  cache.set("a", 1);
  now = 90;
  cache.set("a", 2);
  now = 150;
  expect(cache.get("a")).toBe(2);
  cache.set("b", 3);
  expect(cache.del("a")).toBe(true);
  expect(cache.get("a")).toBeUndefined();
  cache.flushAll();
  expect(cache.size).toBe(0);
});

test("beyond maxEntries the oldest writes go first; nothing keeps a timer", () => {
  const cache = new TtlCache(60_000, 3);
  for (const k of ["a", "b", "c", "d"]) cache.set(k, k);
  expect(cache.get("a")).toBeUndefined();
  expect([cache.get("b"), cache.get("c"), cache.get("d")]).toEqual(["b", "c", "d"]);
  cache.set("b", "b2");
  cache.set("e", "e");
  expect(cache.get("c")).toBeUndefined();
  expect(cache.get("b")).toBe("b2");
});
