import { afterAll, afterEach, beforeAll, expect, test } from 'bun:test';
import { type MemoryAuth, pairByQr, startClient, type TestClient } from './client.ts';
import type { DeviceHandle } from './device.ts';
import { type StartedEmulator, startEmulator } from './emulator.ts';

const ME = '15550009200';
let emu: StartedEmulator;
let auth: MemoryAuth;
let dev: DeviceHandle;
const live: TestClient[] = [];

beforeAll(async () => {
	emu = await startEmulator({ seed: 'catchup', history: { enabled: false }, offlinePaceMs: 5 });
	const r = await pairByQr(emu, ME, { history: false });
	await r.client.waitFor('connection.update', u => u.receivedPendingNotifications === true);
	r.client.end();
	auth = r.auth;
	dev = emu.device(ME);
});
afterEach(() => {
	for (const c of live.splice(0)) c.end();
});
afterAll(async () => {
	await emu.close();
});

/** a client that notes when each stanza and the offline marker arrive off the wire */
function connect() {
	const c = startClient({ url: emu.url, auth, history: false });
	live.push(c);
	const arrivals: { id: string; at: number }[] = [];
	let markerAt = 0;
	c.sock.ws.on('CB:message', (n: { attrs: { id: string } }) => arrivals.push({ id: n.attrs.id, at: Date.now() }));
	c.sock.ws.on('CB:ib,,offline', () => (markerAt = Date.now()));
	return { c, arrivals, markerAt: () => markerAt };
}

async function queue(n: number, prefix: string) {
	await Bun.sleep(50);
	expect(dev.connected).toBe(false);
	const ids: string[] = [];
	for (let i = 0; i < n; i++) ids.push((await dev.sendText({ from: '15551230920', text: `${prefix} ${i}` })).id);
	return ids;
}

test('200 queued messages 5 ms apart: the catch-up takes over a second, the offline marker comes last', async () => {
	const ids = await queue(200, 'paced');
	const receipts: number[] = [];
	emu.on('device-receipt', r => {
		if (ids.includes(r.id)) receipts.push(Date.now());
	});
	const { c, arrivals, markerAt } = connect();
	await c.waitFor('connection.update', u => u.receivedPendingNotifications === true, 10_000);
	expect(arrivals.map(a => a.id)).toEqual(ids);
	expect(arrivals.at(-1)!.at - arrivals[0]!.at).toBeGreaterThanOrEqual(1000);
	expect(markerAt()).toBeGreaterThanOrEqual(arrivals.at(-1)!.at);
	// Baileys receipts each stanza as it processes it, during the catch-up …
	expect(receipts.length).toBe(200);
	expect(receipts.at(-1)! - receipts[0]!).toBeGreaterThanOrEqual(900);
	// … but holds the upserts until the marker, then emits them all (as append)
	const upserted = c.messages().filter(m => ids.includes(m.key.id!));
	expect(upserted.map(m => m.key.id)).toEqual(ids);
	expect(new Set(upserted.map(m => m.upsertType))).toEqual(new Set(['append']));
	expect(dev.confirmations().unconfirmed).toEqual([]);
}, 20_000);

test('a client killed mid catch-up gets the rest, and what it had not confirmed, after the next login', async () => {
	const ids = await queue(200, 'killed');
	const first = connect();
	await first.c.open();
	while (first.arrivals.length < 80) await Bun.sleep(5);
	const gone = new Promise<void>(r => emu.once('disconnected', () => r()));
	first.c.end();
	await gone;
	// nothing from the catch-up was emitted by the killed client: Baileys holds upserts until the marker
	expect(first.c.messages().filter(m => ids.includes(m.key.id!))).toEqual([]);
	const left = dev.confirmations().unconfirmed;
	expect(left.length).toBeGreaterThan(100);
	expect(left.every(u => u.state === 'queued')).toBe(true);
	const confirmedBefore = new Set(dev.confirmations().confirmed.map(x => x.id));
	// exactly the unconfirmed ones come again, in order
	expect(left.map(u => u.id)).toEqual(ids.filter(id => !confirmedBefore.has(id)));
	const second = connect();
	await second.c.waitFor('connection.update', u => u.receivedPendingNotifications === true, 10_000);
	expect(second.arrivals.map(a => a.id)).toEqual(left.map(u => u.id));
	await Bun.sleep(100);
	const confirmed = new Set(dev.confirmations().confirmed.map(x => x.id));
	expect(ids.every(id => confirmed.has(id))).toBe(true);
	expect(dev.confirmations().unconfirmed).toEqual([]);
}, 20_000);
