// Child process for transport.test.ts: a bare Baileys client over wss:// that trusts the
// emulator's certificate only through NODE_EXTRA_CA_CERTS (set by the parent at spawn, the
// explicit way to trust a CA under Bun: Baileys passes no `ca` to its WebSocket).
// Prints JSON lines: {qr}, {open}, {text, media} ; reads nothing.
import { createHash } from 'node:crypto';
import { downloadMediaMessage, type WAMessage } from 'baileys';
import { startClient } from './client.ts';

const [url = ''] = process.argv.slice(2);
const out = (o: object) => process.stdout.write(JSON.stringify(o) + '\n');
const first = startClient({ url, history: false });
out({ qr: await first.qr(10_000) });
const code = await first.closed(10_000);
first.end();
const c = startClient({ url, history: false, auth: first.auth });
await c.open(10_000);
out({ open: true, firstClose: code });
c.sock.ev.on('messages.upsert', async ({ messages }) => {
	for (const m of messages) {
		if (m.message?.conversation) out({ text: m.message.conversation });
		if (m.message?.imageMessage) {
			const bytes = await downloadMediaMessage(m as WAMessage, 'buffer', {});
			out({ media: createHash('sha256').update(bytes).digest('hex'), url: m.message.imageMessage.url });
		}
	}
});
