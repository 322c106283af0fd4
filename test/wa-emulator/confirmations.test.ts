import { afterAll, beforeAll, expect, test } from 'bun:test';
import { type MemoryAuth, pairByQr, startClient, type TestClient } from './client.ts';
import type { DeviceHandle, Sent } from './device.ts';
import { type StartedEmulator, startEmulator } from './emulator.ts';

const ME = '15550009100';
const ALICE = '15551230911';
let emu: StartedEmulator;
let client: TestClient;
let auth: MemoryAuth;
let dev: DeviceHandle;

beforeAll(async () => {
	emu = await startEmulator({ seed: 'confirmations', history: { messages: 20, chats: 2, chunks: 1 } });
	({ client, auth } = await pairByQr(emu, ME, { history: true }));
	dev = emu.device(ME);
	await client.waitFor('connection.update', u => u.receivedPendingNotifications === true);
});
afterAll(async () => {
	client.end();
	await emu.close();
});

async function waitUntil(pred: () => boolean, timeoutMs = 5000) {
	const end = Date.now() + timeoutMs;
	while (!pred()) {
		if (Date.now() > end) throw new Error('timed out');
		await Bun.sleep(10);
	}
}
const confirmedIds = () => new Set(dev.confirmations().confirmed.map(c => c.id));

test('history sync notifications are confirmed with peer_msg and hist_sync receipts', async () => {
	await waitUntil(() => dev.confirmations().confirmed.filter(c => c.kind === 'history').length === 3);
	for (const h of dev.confirmations().confirmed.filter(c => c.kind === 'history')) {
		expect(h.receipts).toEqual(['peer_msg', 'hist_sync']);
		expect(h.device).toBe(dev.devices[0]!.id);
	}
});

test('three messages to a connected client are all confirmed', async () => {
	const sent: Sent[] = [];
	for (const text of ['one', 'two', 'three']) sent.push(await dev.sendText({ from: ALICE, text }));
	await waitUntil(() => sent.every(s => confirmedIds().has(s.id)));
	for (const s of sent) {
		const c = dev.confirmations().confirmed.find(x => x.id === s.id)!;
		expect(c).toMatchObject({ kind: 'message', receipts: ['inactive'] });
		expect(c.at).toBeGreaterThan(0);
	}
	expect(dev.confirmations().unconfirmed).toEqual([]);
});

test('a read receipt adds to the first one; revokes count as protocol messages', async () => {
	const s = await dev.sendText({ from: ALICE, text: 'read me' });
	const m = await client.waitForMessage(x => x.key.id === s.id);
	await client.sock.readMessages([m.key]);
	await waitUntil(() => dev.confirmations().confirmed.find(c => c.id === s.id)?.receipts.includes('read') ?? false);
	expect(dev.confirmations().confirmed.find(c => c.id === s.id)?.receipts).toEqual(['inactive', 'read']);
	const r = await dev.sendRevoke({ from: ALICE, target: s.key });
	await waitUntil(() => confirmedIds().has(r.id));
	expect(dev.confirmations().confirmed.find(c => c.id === r.id)?.kind).toBe('protocol');
});

test('group notifications are confirmed by the ack Baileys sends for them', async () => {
	const g = emu.groups.create({ subject: 'Acks', creator: ALICE, participants: [ME] });
	emu.groups.setSubject(g.id, 'Acked', ALICE);
	await waitUntil(() => dev.confirmations().confirmed.some(c => c.kind === 'notification'));
	expect(dev.confirmations().confirmed.find(c => c.kind === 'notification')?.receipts).toEqual(['ack']);
});

test('sent while the client is down: queued and unconfirmed; after the reconnect, confirmed', async () => {
	client.end();
	await waitUntil(() => !dev.connected);
	const sent: Sent[] = [];
	for (const text of ['away 1', 'away 2']) sent.push(await dev.sendText({ from: ALICE, text }));
	expect(dev.confirmations().unconfirmed).toEqual(sent.map(s => ({ id: s.id, kind: 'message', device: dev.devices[0]!.id, state: 'queued' })));
	client = startClient({ url: emu.url, auth, history: false });
	await client.waitFor('connection.update', u => u.receivedPendingNotifications === true);
	await waitUntil(() => sent.every(s => confirmedIds().has(s.id)));
	expect(dev.confirmations().unconfirmed).toEqual([]);
});
