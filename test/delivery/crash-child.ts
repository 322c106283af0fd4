// The daemon as crash.test.ts kills it: the real wiring of src/main.ts on the data folder
// it is given, fed a fixed stream of messages at a steady pace. Every run starts where
// the database says the previous one stopped, so runs killed at any instant together
// ingest the whole stream. Prints one JSON line {"port"} on stdout once it listens.
import { loadConfig } from "../../src/config.ts";
import type { Message } from "../../src/domain.ts";
import { ingestMessage } from "../../src/ingest/ingest.ts";
import { createLogger } from "../../src/log.ts";
import { startDaemon } from "../../src/main.ts";
import { textMessage } from "../support/messages.ts";

const total = Number(process.env.CRASH_TOTAL ?? 2_000);
const chats = Number(process.env.CRASH_CHATS ?? 20);
const gapMs = Number(process.env.CRASH_GAP_MS ?? 3);

/**
 * Message `i` of the stream. Chats take turns in runs of 4 messages: a run arrives faster
 * than it is delivered, so a chat has a backlog that per-chat order must hold back.
 */
function streamMessage(i: number): Message {
  const chat = Math.floor(i / 4) % chats;
  const phone = `4915550${String(chat).padStart(5, "0")}`;
  const contact = { phone, wa_name: `Chat ${chat}` };
  return textMessage({
    accountId: "acc_crash",
    id: `CRASH${String(i).padStart(6, "0")}`,
    chatId: `${phone}@c.us`,
    chatTitle: `Chat ${chat}`,
    sender: contact,
    participants: [contact],
    text: `message ${i}`,
    timestamp: 1_764_000_000 + i,
    raw: { key: { id: `CRASH${i}` } },
  });
}

// Logs go to stderr: stdout carries only the ready line the test reads.
const log = createLogger("warn", (line) => process.stderr.write(line + "\n"));
const daemon = await startDaemon(loadConfig(process.env), log, { quietQr: true });
process.stdout.write(JSON.stringify({ port: daemon.port }) + "\n");

const { sqlite } = daemon.store;
// The test creates the webhook through the API after the first start; messages stored
// before it exists would be queued for nobody.
while (!sqlite.query("SELECT 1 FROM webhooks LIMIT 1").get()) await Bun.sleep(5);

// Ingest is one transaction per message and this loop is sequential, so the stored count
// is exactly the next index. Re-ingesting one would be harmless anyway (deduplicated).
const stored = (sqlite.query("SELECT COUNT(*) AS n FROM messages WHERE account_id = 'acc_crash'").get() as { n: number }).n;
for (let i = stored; i < total; i++) {
  ingestMessage(daemon.ingest, streamMessage(i));
  await Bun.sleep(gapMs);
}
