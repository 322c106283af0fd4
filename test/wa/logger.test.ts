// Baileys' warnings and errors in our log: what happens in every normal pairing or mass
// reconnect goes to debug (a thousand accounts would otherwise fill the log with noise),
// anything else keeps its level.
import { expect, test } from "bun:test";
import { createLogger } from "../../src/log.ts";
import { baileysLogger } from "../../src/wa/logger.ts";

const levelOf = (write: (log: ReturnType<typeof baileysLogger>) => void) => {
  const lines: { level: string; msg: string }[] = [];
  write(baileysLogger(createLogger("debug", (l) => lines.push(JSON.parse(l)))));
  return lines.map((l) => `${l.level} ${l.msg}`);
};

test.each([
  ["the 515 restart after a pairing", (b: ReturnType<typeof baileysLogger>) => b.error({ node: {} }, "stream errored out"), "debug baileys: stream errored out"],
  ["no name yet right after a pairing", (b: ReturnType<typeof baileysLogger>) => b.warn("no name present, ignoring presence update request..."), "debug baileys: no name present, ignoring presence update request..."],
  ["no history within 20 s of a first login", (b: ReturnType<typeof baileysLogger>) => b.warn("Timeout in AwaitingInitialSync, forcing state to Online and flushing buffer"), "debug baileys: Timeout in AwaitingInitialSync, forcing state to Online and flushing buffer"],
  ["keep-alive on a socket that just closed", (b: ReturnType<typeof baileysLogger>) => b.warn("keep alive called when WS not open"), "debug baileys: keep alive called when WS not open"],
  ["anything else keeps its level", (b: ReturnType<typeof baileysLogger>) => b.error({ err: new Error("x") }, "Failed to upload pre-keys to server"), "error baileys: Failed to upload pre-keys to server"],
])("%s", (_name, write, expected) => {
  expect(levelOf(write)).toEqual([expected]);
});
