import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { type BinaryNode, proto } from 'baileys';
import { type MemoryAuth, pairByQr, startClient, type TestClient } from './client.ts';
import type { DeviceHandle, Sent } from './device.ts';
import { type StartedEmulator, startEmulator } from './emulator.ts';

const CIPHERTEXT = proto.WebMessageInfo.StubType.CIPHERTEXT;
const ME = '15550009000';
const ALICE = '15551230901';
let emu: StartedEmulator;
let client: TestClient;
let auth: MemoryAuth;
let dev: DeviceHandle;

beforeAll(async () => {
	emu = await startEmulator({ seed: 'retry', history: { enabled: false } });
	({ client, auth } = await pairByQr(emu, ME, { history: false }));
	dev = emu.device(ME);
	await client.waitFor('connection.update', u => u.receivedPendingNotifications === true);
});
afterAll(async () => {
	client.end();
	await emu.close();
});

/** every upsert of message `id`, in order: stub or content */
const upsertsOf = (id: string) => client.messages().filter(m => m.key.id === id);
const stub = (id: string) => client.waitForMessage(m => m.key.id === id && m.messageStubType === CIPHERTEXT);
const real = (id: string) => client.waitForMessage(m => m.key.id === id && !!m.message);

/** the stub comes first (returns why it failed), then the content under the same key */
async function expectStubThenText(s: Sent, text: string) {
	const first = await stub(s.id);
	expect(first.message ?? undefined).toBeUndefined();
	const second = await real(s.id);
	expect(second.message?.conversation).toBe(text);
	expect(second.key).toMatchObject({ id: s.id, remoteJid: s.key.remoteJid, fromMe: s.key.fromMe });
	const seen = upsertsOf(s.id);
	expect(seen.findIndex(m => m.messageStubType === CIPHERTEXT)).toBeLessThan(seen.findIndex(m => !!m.message));
	return first.messageStubParameters?.[0];
}

describe("undecryptable: 'retry'", () => {
	test('a contact without a session: CIPHERTEXT stub, retry receipt, then the text under the same id', async () => {
		const retries: unknown[] = [];
		emu.on('retry-request', r => retries.push(r));
		const s = await dev.sendText({ from: '15551230950', text: 'first try fails', undecryptable: 'retry' });
		expect(await expectStubThenText(s, 'first try fails')).toBe('No session record');
		expect(retries).toContainEqual(expect.objectContaining({ id: s.id, count: 1, withheld: false }));
		// the retry receipt is no confirmation; the delivery receipt of the re-sent copy is
		await waitUntil(() => dev.confirmations().confirmed.some(c => c.id === s.id));
		// (Baileys' delivery receipt is type "inactive" while it is not marked online)
		expect(dev.confirmations().confirmed.find(c => c.id === s.id)?.receipts).toEqual(['inactive']);
	});

	test('a contact the device already has a session with (by LID and by phone)', async () => {
		await real((await dev.sendText({ from: ALICE, text: 'hello first' })).id);
		const lost = await dev.sendText({ from: ALICE, text: 'lost session', undecryptable: 'retry' });
		expect(await expectStubThenText(lost, 'lost session')).toBe('No matching sessions found for message');
		await expectStubThenText(await dev.sendText({ from: ALICE, via: 'pn', text: 'by phone', undecryptable: 'retry' }), 'by phone');
		// the session the retry answer opened keeps working
		expect((await real((await dev.sendText({ from: ALICE, text: 'after' })).id)).message?.conversation).toBe('after');
	});

	test('sent from the phone (deviceSentMessage)', async () => {
		const s = await dev.sendText({ fromMe: true, to: ALICE, text: 'typed on the phone', undecryptable: 'retry' });
		await expectStubThenText(s, 'typed on the phone');
	});

	test('group: sender key message before any distribution, answered with one pkmsg carrying both', async () => {
		const g = emu.groups.create({ subject: 'Retry group', creator: ALICE, participants: [ME, '15551230902'] });
		const first = await dev.sendText({ from: ALICE, group: g.id, text: 'group retry', undecryptable: 'retry' });
		expect(await expectStubThenText(first, 'group retry')).toBe('No session found to decrypt message');
		// the sender key came with the answer: the next group message is a plain skmsg that decrypts
		const next = await dev.sendText({ from: ALICE, group: g.id, text: 'group after' });
		expect((await real(next.id)).message?.conversation).toBe('group after');
		// a member whose sender key the device already holds
		await expectStubThenText(await dev.sendText({ from: ALICE, group: g.id, text: 'known key', undecryptable: 'retry' }), 'known key');
	});

	test('other kinds too: a reaction and media', async () => {
		const target = await dev.sendText({ from: ALICE, text: 'react to me' });
		await real(target.id);
		const r = await dev.sendReaction({ from: ALICE, target: target.key, emoji: '🔥', undecryptable: 'retry' });
		await stub(r.id);
		expect((await real(r.id)).message?.reactionMessage?.text).toBe('🔥');
		const img = await dev.sendMedia({ from: ALICE, kind: 'image', caption: 'pic', undecryptable: 'retry' });
		await stub(img.id);
		expect((await real(img.id)).message?.imageMessage?.caption).toBe('pic');
	});
});

describe("undecryptable: 'withhold'", () => {
	test('only the stub until release, then the text', async () => {
		const s = await dev.sendText({ from: ALICE, text: 'held back', undecryptable: 'withhold' });
		await stub(s.id);
		await waitUntil(() => dev.confirmations().unconfirmed.some(u => u.id === s.id && u.retries === 1));
		await Bun.sleep(300);
		expect(upsertsOf(s.id).filter(m => m.message)).toEqual([]);
		expect(dev.confirmations().unconfirmed.find(u => u.id === s.id)).toMatchObject({ state: 'in_flight', kind: 'message', retries: 1, withheld: true });
		expect(dev.releaseRetry(s.id)).toBe(1);
		expect((await real(s.id)).message?.conversation).toBe('held back');
		await waitUntil(() => dev.confirmations().confirmed.some(c => c.id === s.id));
		expect(() => dev.releaseRetry(s.id)).toThrow('no withheld message');
	});

	test("a later retry receipt carries the device's keys (Baileys' second retry): the answer's session is opened from them", async () => {
		const nodes = new Map<string, BinaryNode>();
		client.sock.ws.on('CB:message', (n: BinaryNode) => nodes.set(n.attrs.id!, n));
		const s = await dev.sendText({ from: ALICE, text: 'second retry', undecryptable: 'withhold' });
		await stub(s.id);
		const device = dev.devices[0]!;
		await waitUntil(() => device.retries.get(s.id)?.count === 1);
		expect(device.retries.get(s.id)?.keys).toBeUndefined();
		await client.sock.sendRetryRequest(nodes.get(s.id)!, true);
		await waitUntil(() => device.retries.get(s.id)?.count === 2);
		expect(device.retries.get(s.id)?.keys?.preKey).toBeDefined();
		const uploaded = device.bundle.preKeys.length;
		dev.releaseRetry(s.id);
		expect((await real(s.id)).message?.conversation).toBe('second retry');
		// the one-time prekey came from the receipt, none of the uploaded ones was used
		expect(device.bundle.preKeys.length).toBe(uploaded);
	});

	test('withheld across a reconnect: the undecryptable copy comes again, release answers the new retry receipt', async () => {
		const s = await dev.sendText({ from: ALICE, text: 'survives a reconnect', undecryptable: 'withhold' });
		await stub(s.id);
		await waitUntil(() => dev.confirmations().unconfirmed.some(u => u.id === s.id && u.retries === 1));
		client.end();
		await waitUntil(() => !dev.connected && dev.confirmations().unconfirmed.some(u => u.id === s.id && u.state === 'queued'));
		client = startClient({ url: emu.url, auth, history: false });
		const again = await stub(s.id);
		expect(again.key.id).toBe(s.id);
		await waitUntil(() => dev.confirmations().unconfirmed.some(u => u.id === s.id && u.state === 'in_flight' && u.retries === 1));
		dev.releaseRetry(s.id);
		expect((await real(s.id)).message?.conversation).toBe('survives a reconnect');
	});
});

async function waitUntil(pred: () => boolean, timeoutMs = 5000) {
	const end = Date.now() + timeoutMs;
	while (!pred()) {
		if (Date.now() > end) throw new Error('timed out');
		await Bun.sleep(10);
	}
}
