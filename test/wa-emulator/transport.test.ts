import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createHash } from 'node:crypto';
import { unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pairByQr, startClient } from './client.ts';
import { type StartedEmulator, startEmulator } from './emulator.ts';
import type { UpgradeVariant } from './ws-server.ts';

describe('101 upgrade answer variants (Bun ws shim)', () => {
	let emu: StartedEmulator;
	beforeAll(async () => {
		emu = await startEmulator({ seed: 'transport', history: { enabled: false } });
	});
	afterAll(async () => {
		await emu.close();
	});

	const variants: [string, UpgradeVariant][] = [
		['lower-case header names', { headerCase: 'lower' }],
		['upper-case header names', { headerCase: 'upper' }],
		['non-standard reason phrase', { reason: 'OK' }],
		['extra headers (Server, Date, X-Frame-Options, Content-Length)', { extraHeaders: ['Server: WhatsApp', 'Date: Tue, 24 Nov 2026 12:00:00 GMT', 'X-Frame-Options: DENY', 'Content-Length: 0'] }],
		['Sec-WebSocket-Extensions: permessage-deflate (client compresses, context takeover)', { extraHeaders: ['Sec-WebSocket-Extensions: permessage-deflate'] }],
		['permessage-deflate without context takeover', { extraHeaders: ['sec-websocket-extensions: permessage-deflate; client_no_context_takeover; server_no_context_takeover'] }]
	];
	variants.forEach(([name, v], i) => {
		test(`pairs and exchanges messages with ${name}`, async () => {
			emu.upgrade = v;
			const phone = `1555000500${i}`;
			const { client } = await pairByQr(emu, phone, { history: false });
			try {
				const s = await emu.device(phone).sendText({ from: '15551230501', text: `variant ${i}` });
				expect((await client.waitForMessage(m => m.key.id === s.id)).message?.conversation).toBe(`variant ${i}`);
				// and the other direction, which is what the compressed client frames carry
				const sent = await client.sock.sendMessage('15551230501@s.whatsapp.net', { text: 'back' });
				expect((await emu.device(phone).waitForSent(x => x.id === sent!.key.id)).message).toBeTruthy();
			} finally {
				client.end();
				emu.upgrade = {};
			}
		});
	});

	test('an unrequested Sec-WebSocket-Protocol is rejected by the client (closes, never shows a QR)', async () => {
		emu.upgrade = { extraHeaders: ['Sec-WebSocket-Protocol: chat'] };
		const c = startClient({ url: emu.url, history: false });
		try {
			const closed = await c.waitFor('connection.update', u => u.connection === 'close');
			expect(String(closed.lastDisconnect?.error?.message)).toContain('subprotocol');
			expect(c.events('connection.update').some(u => u.qr)).toBe(false);
		} finally {
			c.end();
			emu.upgrade = {};
		}
	});
});

describe('wss:// with a certificate generated at start', () => {
	let emu: StartedEmulator;
	let caFile: string;
	beforeAll(async () => {
		emu = await startEmulator({ seed: 'wss', tls: true, mediaLinks: 'local', history: { enabled: false } });
		caFile = join(tmpdir(), `wa-emu-ca-${process.pid}.pem`);
		writeFileSync(caFile, emu.ca!);
	});
	afterAll(async () => {
		unlinkSync(caFile);
		await emu.close();
	});

	test('without trusting the certificate the client cannot connect', async () => {
		const c = startClient({ url: emu.wssUrl!, history: false });
		try {
			const closed = await c.waitFor('connection.update', u => u.connection === 'close');
			expect(String(closed.lastDisconnect?.error?.message)).toMatch(/self.signed|certificate/i);
		} finally {
			c.end();
		}
	});

	test('trusting it via NODE_EXTRA_CA_CERTS: pairing, messages and https media over TLS', async () => {
		const child = Bun.spawn(['bun', join(import.meta.dir, 'wss-child.ts'), emu.wssUrl!], {
			env: { ...process.env, NODE_EXTRA_CA_CERTS: caFile },
			stdout: 'pipe',
			stderr: 'ignore'
		});
		const lines: Record<string, unknown>[] = [];
		const reader = (async () => {
			let buf = '';
			const r = (child.stdout as ReadableStream<Uint8Array>).getReader();
			for (;;) {
				const { value, done } = await r.read();
				if (done) break;
				buf += Buffer.from(value).toString();
				let i: number;
				while ((i = buf.indexOf('\n')) >= 0) {
					lines.push(JSON.parse(buf.slice(0, i)));
					buf = buf.slice(i + 1);
				}
			}
		})();
		const line = async (key: string, timeoutMs = 10_000) => {
			const end = Date.now() + timeoutMs;
			for (;;) {
				const hit = lines.find(l => key in l);
				if (hit) return hit;
				if (Date.now() > end) throw new Error(`child never printed ${key}`);
				await Bun.sleep(20);
			}
		};
		try {
			const { qr } = (await line('qr')) as { qr: string };
			emu.scanQr(qr, { phone: '15550006000' });
			expect(await line('open')).toMatchObject({ open: true, firstClose: 515 });
			await emu.device('15550006000').sendText({ from: '15551230601', text: 'over tls' });
			expect(await line('text')).toEqual({ text: 'over tls' });
			const img = await emu.device('15550006000').sendImage({ from: '15551230601' });
			const got = (await line('media')) as { media: string; url: string };
			expect(got.url).toStartWith(emu.mediaHttpsUrl!);
			expect(got.media).toBe(createHash('sha256').update(img.bytes).digest('hex'));
		} finally {
			child.kill();
			await reader.catch(() => {});
		}
	}, 20_000);
});
