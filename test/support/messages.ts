// Messages for tests, benchmarks and child processes (no bun:test import, so scripts that
// run outside `bun test` can use it too).
import type { Message } from "../../src/domain.ts";

let counter = 0;

/** A plain received text message; override what a test cares about. */
export function textMessage(overrides: Partial<Message> = {}): Message {
  counter++;
  const chatPhone = "491701234567";
  return {
    accountId: "acc_test",
    id: `MSG${counter.toString().padStart(6, "0")}`,
    chatId: `${chatPhone}@c.us`,
    chatType: "individual",
    chatTitle: "Alice",
    direction: "received",
    sender: { phone: chatPhone, wa_name: "Alice" },
    participants: [
      { phone: chatPhone, wa_name: "Alice" },
      { phone: "15550000001", wa_name: "Owner" },
    ],
    type: "chat",
    text: `hello ${counter}`,
    caption: null,
    quotedId: null,
    location: null,
    reaction: null,
    media: null,
    timestamp: 1_764_000_000 + counter,
    history: false,
    raw: { key: { id: `MSG${counter}` } },
    ...overrides,
  };
}
