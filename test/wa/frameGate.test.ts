// The frame gate holds what a socket sends until the commit; while WhatsApp streams
// frames the turn never ends, so the next incoming frame commits and releases them once
// enough time has passed since the last commit.
import { afterEach, beforeEach, expect, test } from "bun:test";
import { EventEmitter } from "node:events";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { createLogger } from "../../src/log.ts";
import { openStore, type Store } from "../../src/store/db.ts";
import { GroupCommit } from "../../src/store/groupCommit.ts";
import { FrameGate } from "../../src/wa/frameGate.ts";
import { tempDir } from "../support/app.ts";

let dir: string;
let store: Store;
let commit: GroupCommit;
const log = createLogger("error", () => {});

beforeEach(() => {
  dir = tempDir("wahook-gate-");
  store = openStore(join(dir, "wahook.db"));
  commit = new GroupCommit(store, log);
});
afterEach(() => {
  commit.close();
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const turn = () => new Promise((resolve) => setImmediate(resolve));

/** A stand-in for Baileys' socket around a ws: frames written, incoming frames emitted. */
function fakeSocket() {
  const wire: string[] = [];
  const socket = Object.assign(new EventEmitter(), {
    send: (data: string, _options?: unknown, cb?: (error?: Error) => void) => {
      wire.push(data);
      cb?.();
    },
    close: () => wire.push("<close>"),
  });
  return { sock: { ws: { socket } } as never, socket, wire };
}

test("frames wait for the end-of-turn commit, in order; the sender is told at once", async () => {
  const gate = new FrameGate(commit, log);
  const { sock, socket, wire } = fakeSocket();
  gate.wrap(sock);
  const told: number[] = [];
  socket.send("receipt 1", undefined, () => told.push(1));
  socket.send("receipt 2", () => told.push(2));
  await Promise.resolve();
  expect(told).toEqual([1, 2]);
  expect(wire).toEqual([]);
  await turn();
  expect(wire).toEqual(["receipt 1", "receipt 2"]);
});

test("an incoming frame commits and releases held frames once the last commit is 200 ms old, not before", async () => {
  const gate = new FrameGate(commit, log);
  const { sock, socket, wire } = fakeSocket();
  gate.wrap(sock);
  commit.flushNow(true);
  socket.send("receipt 1");
  // A frame arrives at once: the last commit is too recent.
  socket.emit("message", "next frame");
  expect(wire).toEqual([]);
  const until = performance.now() + 210;
  while (performance.now() < until);
  // Still the same turn (a stream of frames): the next frame commits first.
  socket.emit("message", "another frame");
  expect(wire).toEqual(["receipt 1"]);
  expect(gate.size).toBe(0);
});

test("a socket that closes commits and sends what it holds first", () => {
  const gate = new FrameGate(commit, log);
  const { sock, socket, wire } = fakeSocket();
  gate.wrap(sock);
  socket.send("remove this device");
  socket.close();
  expect(wire).toEqual(["remove this device", "<close>"]);
});
