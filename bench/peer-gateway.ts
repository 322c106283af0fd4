// The peer-style baseline of bench/live.ts, as a process of its own (as the daemon is): what
// an in-memory gateway such as WAHA or Evolution API does with a live message. A bare
// Baileys client pairs with the emulator and, for every `messages.upsert` message, sends
// one `fetch` POST to the receiver at once: no storage, no queue, no retry, no order kept
// between requests, no signature; a crash or a receiver that is down loses the message.
// The JSON body has the daemon's fields (seq from an in-memory counter per chat), so both
// send about as many bytes and the receiver parses both alike.
// Protocol on stdout, one JSON line each: {"qr"} to be scanned, {"ready"} once open.
// Failed requests are counted and reported on stderr.
// Usage (from live.ts): bun bench/peer-gateway.ts --url ws://… --sink http://…/hook
import { parseArgs } from "node:util";
import type { WAMessage } from "baileys";
import { pairedClient, say } from "./pairedClient.ts";

const { values } = parseArgs({ options: { url: { type: "string" }, sink: { type: "string" } } });
const sink = values.sink!;

const client = await pairedClient(values.url!);
const own = { phone: client.sock.user?.id.split(/[:@]/)[0] ?? null, wa_name: client.sock.user?.name ?? null };

const seqs = new Map<string, number>();
let failed = 0;
const phoneOf = (jid: string | null | undefined) => (jid ? jid.split(/[:@]/)[0]! : null);

function body(m: WAMessage, text: string): string {
  const jid = m.key.remoteJid ?? "";
  const chatId = jid.endsWith("@s.whatsapp.net") ? `${phoneOf(jid)}@c.us` : jid;
  const seq = (seqs.get(chatId) ?? 0) + 1;
  seqs.set(chatId, seq);
  const sender = m.key.fromMe ? own : { phone: phoneOf(m.key.participant ?? jid), wa_name: m.pushName ?? null };
  return JSON.stringify({
    chat_id: chatId,
    chat_type: jid.endsWith("@g.us") ? "group" : "individual",
    chat_title: m.pushName ?? phoneOf(jid),
    sender,
    participants: [sender, own],
    user_phone: own.phone,
    user_email: null,
    direction: m.key.fromMe ? "sent" : "received",
    message: {
      id: m.key.id,
      type: "chat",
      text,
      file_name: null,
      file_url: null,
      caption: null,
      quoted_id: m.message?.extendedTextMessage?.contextInfo?.stanzaId ?? null,
      mime_type: null,
      file_size: null,
      location: null,
      reaction: null,
    },
    timestamp: String(Number(m.messageTimestamp ?? 0)),
    event: "message.received",
    account_id: "acc_01PEERGATEWAY0000000000000", // as long as the daemon's ids
    history: false,
    seq,
  });
}

client.sock.ev.on("messages.upsert", ({ messages }) => {
  for (const m of messages) {
    const text = m.message?.conversation ?? m.message?.extendedTextMessage?.text;
    if (!text) continue;
    fetch(sink, { method: "POST", body: body(m, text), headers: { "content-type": "application/json" } })
      .then((res) => res.arrayBuffer())
      .catch((err: unknown) => {
        failed++;
        if (failed === 1 || failed % 1000 === 0) process.stderr.write(`peer-gateway: ${failed} failed requests (${String(err)})\n`);
      });
  }
});
say({ ready: true });
