import { afterAll, beforeAll, expect, test } from 'bun:test';
import { join } from 'node:path';
import { downloadMediaMessage, proto, type WAMessage } from 'baileys';
import { startClient, type TestClient } from './client.ts';

// the standalone program, driven only over its admin API (as the daemon's black-box tests will)
let child: ReturnType<typeof Bun.spawn>;
let info: { url: string; adminUrl: string; mediaUrl: string; rootPublicKeyHex: string };
let startupMs = 0;
const clients: TestClient[] = [];

const api = async (method: string, path: string, body?: unknown) => {
	const r = await fetch(info.adminUrl + path, { method, body: body ? JSON.stringify(body) : undefined, headers: { 'content-type': 'application/json' } });
	const json = await r.json();
	if (!r.ok) throw new Error(`${method} ${path} → ${r.status} ${JSON.stringify(json)}`);
	return json as Record<string, unknown> & unknown[];
};

beforeAll(async () => {
	const t0 = performance.now();
	child = Bun.spawn(['bun', join(import.meta.dir, 'main.ts'), '--port', '0', '--seed', 'admin', '--no-history'], { stdout: 'pipe', stderr: 'inherit' });
	const reader = (child.stdout as ReadableStream<Uint8Array>).getReader();
	let buf = '';
	while (!buf.includes('\n')) {
		const { value, done } = await reader.read();
		if (done) throw new Error('emulator exited');
		buf += Buffer.from(value).toString();
	}
	startupMs = performance.now() - t0;
	info = JSON.parse(buf.slice(0, buf.indexOf('\n')));
	reader.releaseLock();
});
afterAll(async () => {
	for (const c of clients) c.end();
	child.kill('SIGTERM');
	await child.exited;
});

const pair = async (phone: string) => {
	const first = startClient({ url: info.url, mediaUrl: info.mediaUrl, history: false });
	clients.push(first);
	const qr = await first.qr();
	const scanned = await api('POST', `/devices/${phone}/scan`, { qr, pushName: 'Admin User' });
	expect(scanned.jid).toMatch(new RegExp(`^${phone}:\\d+@s\\.whatsapp\\.net$`));
	expect(await first.closed()).toBe(515);
	const c = startClient({ url: info.url, mediaUrl: info.mediaUrl, auth: first.auth, history: false });
	clients.push(c);
	await c.open();
	return c;
};

test('starts in under a second and reports its URLs', async () => {
	expect(startupMs).toBeLessThan(1000);
	const h = await api('GET', '/health');
	expect(h).toMatchObject({ ok: true, url: info.url, mediaUrl: info.mediaUrl });
	expect(h.rootPublicKeyHex).toBe(info.rootPublicKeyHex);
});

test('scan a QR, send text and media, see what the device sent, list devices', async () => {
	const c = await pair('15550007000');
	const devices = await api('GET', '/devices');
	expect((devices as unknown as { phone: string }[]).map(d => d.phone)).toContain('15550007000');
	const t = await api('POST', '/devices/15550007000/messages', { kind: 'text', from: '15551230701', pushName: 'Ann', text: 'via admin' });
	const m = await c.waitForMessage(x => x.key.id === t.id);
	expect(m.message?.conversation).toBe('via admin');
	expect(m.pushName).toBe('Ann');
	const bytes = Buffer.from('hello media');
	const img = await api('POST', '/devices/15550007000/messages', { kind: 'document', from: '15551230701', dataBase64: bytes.toString('base64'), fileName: 'x.txt', mimetype: 'text/plain' });
	const dm = await c.waitForMessage(x => x.key.id === img.id);
	expect((await downloadMediaMessage(dm as WAMessage, 'buffer', {})).toString()).toBe('hello media');
	const r = await api('POST', '/devices/15550007000/messages', { kind: 'reaction', from: '15551230701', target: t.key, emoji: '❤️' });
	expect((await c.waitForMessage(x => x.key.id === r.id)).message?.reactionMessage?.text).toBe('❤️');
	const sent = await c.sock.sendMessage('15551230701@s.whatsapp.net', { text: 'answer' });
	let list: { id: string }[] = [];
	for (let i = 0; i < 100 && !list.some(s => s.id === sent!.key.id); i++) {
		await Bun.sleep(20);
		list = (await api('GET', '/devices/15550007000/sent')) as never;
	}
	expect(list.find(s => s.id === sent!.key.id)).toMatchObject({ to: '15551230701@s.whatsapp.net', message: { extendedTextMessage: { text: 'answer' } } });
	const acc = await api('GET', '/devices/15550007000');
	expect((acc.devices as { online: boolean }[])[0]?.online).toBe(true);
	await expect(api('POST', '/devices/15550007000/messages', { kind: 'nope', from: '1' })).rejects.toThrow('400');
});

test('groups and faults over the API', async () => {
	const c = await pair('15550007001');
	const g = await api('POST', '/groups', { subject: 'Admin group', creator: '15551230702', participants: ['15550007001'] });
	const all = await c.sock.groupFetchAllParticipating();
	expect(all[g.id as string]?.subject).toBe('Admin group');
	await api('POST', `/groups/${g.id}/subject`, { subject: 'Renamed', by: '15551230702' });
	await c.waitFor('groups.update', u => u.some(x => x.subject === 'Renamed'));
	await api('POST', `/groups/${g.id}/participants`, { add: ['15551230703'], by: '15551230702' });
	await c.waitFor('group-participants.update', e => e.action === 'add');
	const gm = await api('POST', '/devices/15550007001/messages', { kind: 'text', from: '15551230702', group: g.id, text: 'group via admin' });
	expect((await c.waitForMessage(x => x.key.id === gm.id)).key.remoteJid).toBe(g.id as string);
	await api('POST', '/faults', { phone: '15550007001', type: 'close', code: 503 });
	expect(await c.closed()).toBe(503);
});

test('pairing code over the API', async () => {
	const c = startClient({ url: info.url, history: false });
	clients.push(c);
	await c.qr();
	const code = await c.sock.requestPairingCode('15550007002');
	await api('POST', '/devices/15550007002/pairing-code', { code });
	expect(await c.closed()).toBe(515);
});

test('undecryptable sends, release, confirmations, raw messages and the offline pace over the API', async () => {
	const phone = '15550007003';
	const c = await pair(phone);
	const held = await api('POST', `/devices/${phone}/messages`, { kind: 'text', from: '15551230704', text: 'withheld', undecryptable: 'withhold' });
	await c.waitForMessage(x => x.key.id === held.id && x.messageStubType === proto.WebMessageInfo.StubType.CIPHERTEXT);
	let report: { confirmed: { id: string; kind: string }[]; unconfirmed: { id: string; state: string; withheld?: boolean }[] } = { confirmed: [], unconfirmed: [] };
	for (let i = 0; i < 100 && !report.unconfirmed.some(u => u.id === held.id && u.withheld); i++) {
		await Bun.sleep(20);
		report = (await api('GET', `/devices/${phone}/confirmations`)) as never;
	}
	expect(report.unconfirmed.find(u => u.id === held.id)).toMatchObject({ state: 'in_flight', withheld: true });
	expect(await api('POST', `/devices/${phone}/messages/${held.id}/release`)).toMatchObject({ id: held.id, answered: 1 });
	expect((await c.waitForMessage(x => x.key.id === held.id && !!x.message)).message?.conversation).toBe('withheld');
	await expect(api('POST', `/devices/${phone}/messages/NOSUCHID/release`)).rejects.toThrow('404');
	await expect(api('POST', `/devices/${phone}/messages`, { kind: 'text', from: '1', text: 'x', undecryptable: 'maybe' })).rejects.toThrow('400');

	const raw = await api('POST', `/devices/${phone}/messages`, {
		kind: 'raw',
		message: { buttonsResponseMessage: { selectedButtonId: 'b1', selectedDisplayText: 'One', type: 'DISPLAY_TEXT' } },
		key: { remoteJid: '15551230704@s.whatsapp.net', fromMe: false, id: 'ADMINRAW000001' },
		pushName: 'Raw Sender',
		undecryptable: 'retry'
	});
	expect(raw.id).toBe('ADMINRAW000001');
	const rm = await c.waitForMessage(x => x.key.id === raw.id && !!x.message);
	expect(rm.message?.buttonsResponseMessage?.selectedButtonId).toBe('b1');
	expect(rm.key.remoteJid).toBe('15551230704@s.whatsapp.net');
	await expect(api('POST', `/devices/${phone}/messages`, { kind: 'raw', message: { conversation: 'x' } })).rejects.toThrow('400');
	for (let i = 0; i < 100 && !report.confirmed.some(x => x.id === raw.id); i++) {
		await Bun.sleep(20);
		report = (await api('GET', `/devices/${phone}/confirmations`)) as never;
	}
	expect(report.confirmed.filter(x => [held.id, raw.id].includes(x.id)).map(x => x.kind)).toEqual(['message', 'message']);

	expect((await api('PUT', '/settings', { offlinePaceMs: 5 })).offlinePaceMs).toBe(5);
	await api('PUT', '/settings', { offlinePaceMs: 0 });
});

test('each login of a device is counted, so a reconnect storm can show every device came back once', async () => {
	const phone = '15550007005';
	const c = await pair(phone);
	const logins = async () => ((await api('GET', `/devices/${phone}`)).devices as { logins: number }[])[0]?.logins;
	expect(await logins()).toBe(1);
	await api('POST', '/faults', { phone, type: 'drop' });
	expect(await c.closed()).toBe(428);
	const again = startClient({ url: info.url, mediaUrl: info.mediaUrl, auth: c.auth, history: false });
	clients.push(again);
	await again.open();
	expect(await logins()).toBe(2);
});
