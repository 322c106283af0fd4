import { afterAll, beforeAll, expect, test } from 'bun:test';
import { proto } from 'baileys';
import { pairByQr, type TestClient } from './client.ts';
import { type StartedEmulator, startEmulator } from './emulator.ts';
import { historyChats, historyMessage } from './history.ts';

const T = proto.HistorySync.HistorySyncType;
const ME = '15550003000';
let emu: StartedEmulator;
let client: TestClient;

beforeAll(async () => {
	emu = await startEmulator({ seed: 'history', history: { messages: 250, chats: 4, chunks: 3 } });
	({ client } = await pairByQr(emu, ME, { history: true }));
});
afterAll(async () => {
	client.end();
	await emu.close();
});

const allHistory = () => client.events('messaging-history.set');

async function waitForHistory(pred: () => boolean, timeoutMs = 10_000) {
	const end = Date.now() + timeoutMs;
	while (!pred()) {
		if (Date.now() > end) throw new Error('timed out waiting for history');
		await Bun.sleep(20);
	}
}

test('first pairing gets history in several chunks: inline bootstrap, blob RECENT chunks, push names', async () => {
	await waitForHistory(() => allHistory().some(h => h.syncType === T.PUSH_NAME));
	const sets = allHistory();
	const types = sets.map(h => h.syncType);
	expect(types[0]).toBe(T.INITIAL_BOOTSTRAP);
	expect(types.filter(t => t === T.RECENT).length).toBe(3);
	expect(types).toContain(T.PUSH_NAME);
	const total = sets.reduce((n, h) => n + h.messages.length, 0);
	expect(total).toBe(250);
	const bootstrap = sets[0]!;
	expect(bootstrap.chats.length).toBe(4);
	expect(bootstrap.isLatest).toBe(true);
	// LID↔phone mappings for every chat (phoneNumberToLidMappings + conversation pnJid). Note: while
	// Baileys buffers events (first sync) its merged messaging-history.set drops lidPnMappings, so
	// check the contacts and the mapping store it fed instead.
	const chats = historyChats(emu.seed, emu.device(ME).account, 4);
	for (const c of chats) {
		expect(bootstrap.contacts).toContainEqual(expect.objectContaining({ id: c.jid, phoneNumber: `${c.phone}@s.whatsapp.net` }));
		const pn = await client.sock.signalRepository.lidMapping.getPNForLID(c.jid);
		expect(pn?.replace(':0@', '@')).toBe(`${c.phone}@s.whatsapp.net`);
	}
	const recent = sets.filter(h => h.syncType === T.RECENT);
	expect(recent.at(-1)?.progress).toBe(100);
	// names from the push-name chunk
	const names = sets.find(h => h.syncType === T.PUSH_NAME)!.contacts.map(c => c.notify);
	expect(names).toContain(chats[0]!.name);
});

test('history content is deterministic from the seed', () => {
	const chats = historyChats('history', emu.device(ME).account, 4);
	const expected = Array.from({ length: 250 }, (_, i) => historyMessage('history', chats, i, 250));
	const got = new Map(allHistory().flatMap(h => h.messages).map(m => [m.key.id, m.message?.conversation]));
	for (const e of expected) expect(got.get(e.key!.id!)).toBe(e.message!.conversation!);
	// a different seed gives different ids
	const other = historyMessage('other seed', historyChats('other seed', emu.device(ME).account, 4), 0, 250);
	expect(got.has(other.key!.id!)).toBe(false);
});

test('connection stays usable after history: a live message arrives as notify', async () => {
	const s = await emu.device(ME).sendText({ from: '15551239999', text: 'live after history' });
	const m = await client.waitForMessage(x => x.key.id === s.id);
	expect(m.message?.conversation).toBe('live after history');
});

test('on-demand history: fetchMessageHistory → ON_DEMAND chunk of older messages', async () => {
	const oldest = allHistory()
		.flatMap(h => h.messages)
		.sort((a, b) => Number(a.messageTimestamp) - Number(b.messageTimestamp))[0]!;
	const requestId = await client.sock.fetchMessageHistory(20, oldest.key, Number(oldest.messageTimestamp) * 1000);
	await waitForHistory(() => allHistory().some(h => h.syncType === T.ON_DEMAND));
	const od = allHistory().find(h => h.syncType === T.ON_DEMAND)!;
	expect(od.messages.length).toBe(20);
	expect(od.peerDataRequestSessionId).toBe(requestId);
	for (const m of od.messages) {
		expect(m.key.remoteJid).toBe(oldest.key.remoteJid!);
		expect(Number(m.messageTimestamp)).toBeLessThan(Number(oldest.messageTimestamp));
	}
});

test('100,000 generated messages reach Baileys through the history chunks', async () => {
	const big = await startEmulator({ seed: 'big', history: { messages: 100_000, chats: 20, chunks: 5 } });
	const { client: c } = await pairByQr(big, '15550003001', { history: true });
	try {
		let total = 0;
		const end = Date.now() + 25_000;
		while (total < 100_000 && Date.now() < end) {
			await Bun.sleep(50);
			total = c.events('messaging-history.set').reduce((n, h) => n + h.messages.length, 0);
		}
		expect(total).toBe(100_000);
	} finally {
		c.end();
		await big.close();
	}
}, 30_000);
