import { afterAll, beforeAll, expect, test } from 'bun:test';
import { pairByQr, startClient, type TestClient } from './client.ts';
import { type StartedEmulator, startEmulator } from './emulator.ts';

let emu: StartedEmulator;
const clients: TestClient[] = [];
beforeAll(async () => {
	emu = await startEmulator({ seed: 'pairing', history: { enabled: false } });
});
afterAll(async () => {
	for (const c of clients) c.end();
	await emu.close();
});

test('QR pairing: qr string, scan, 515 restart, login with the saved creds', async () => {
	const first = startClient({ url: emu.url, history: false });
	clients.push(first);
	const qr = await first.qr();
	expect(qr).toMatch(/^https:\/\/wa\.me\/settings\/linked_devices#[^,]+,[^,]+,[^,]+,[^,]+/);
	const device = emu.scanQr(qr, { phone: '15550000001', pushName: 'Pat' });
	expect(await first.waitFor('connection.update', u => u.isNewLogin === true)).toBeTruthy();
	expect(await first.closed()).toBe(515);
	expect(first.auth.creds.me?.id).toBe(`15550000001:${device.id}@s.whatsapp.net`);
	expect(first.auth.creds.me?.lid).toBe(`${emu.device('15550000001').lid}:${device.id}@lid`);
	const second = startClient({ url: emu.url, auth: first.auth, history: false });
	clients.push(second);
	await second.open();
	expect(second.events('connection.update').some(u => u.qr)).toBe(false);
	await second.waitFor('connection.update', u => u.receivedPendingNotifications === true);
	expect(emu.device('15550000001').connected).toBe(true);
	second.end();
});

test('pairing code: requestPairingCode, the phone enters it, 515, login', async () => {
	const c = startClient({ url: emu.url, history: false });
	clients.push(c);
	await c.qr();
	const code = await c.sock.requestPairingCode('15550000002');
	expect(code).toMatch(/^[A-Z0-9]{8}$/);
	await emu.pairWithCode('15550000002', code, 'Code User');
	expect(await c.closed()).toBe(515);
	expect(c.auth.creds.me?.id).toMatch(/^15550000002:\d+@s\.whatsapp\.net$/);
	const again = startClient({ url: emu.url, auth: c.auth, history: false });
	clients.push(again);
	await again.open();
	again.end();
});

test('returning device logs in again with saved creds (no QR) and receives messages', async () => {
	const { client, auth } = await pairByQr(emu, '15550000003', { history: false });
	client.end();
	await Bun.sleep(50);
	const back = startClient({ url: emu.url, auth, history: false });
	clients.push(back);
	await back.open();
	const sent = await emu.device('15550000003').sendText({ from: '15557770001', text: 'welcome back' });
	const m = await back.waitForMessage(x => x.key.id === sent.id);
	expect(m.message?.conversation).toBe('welcome back');
	back.end();
});

test('unknown device credentials are refused with 401', async () => {
	const { auth } = await pairByQr(emu, '15550000004', { history: false }).then(r => {
		r.client.end();
		return r;
	});
	// forget the device on the server side: its creds are now stale
	emu.removeDevice(emu.device('15550000004').devices[0]);
	const c = startClient({ url: emu.url, auth, history: false });
	clients.push(c);
	expect(await c.closed()).toBe(401);
});

test('a wrong QR is rejected by the emulator', () => {
	expect(() => emu.scanQr('nope,AAAA,BBBB,CCCC', { phone: '1555' })).toThrow();
});

test('the emulator hands out 6 QR refs; when they run out the client closes with 408', async () => {
	const c = startClient({ url: emu.url, history: false, socket: { qrTimeout: 40 } });
	clients.push(c);
	expect(await c.closed()).toBe(408);
	const qrs = c.events('connection.update').filter(u => u.qr).map(u => u.qr);
	expect(new Set(qrs).size).toBe(6);
});

test('sock.logout() removes the companion on the emulator and closes with 401', async () => {
	const { client } = await pairByQr(emu, '15550000005', { history: false });
	clients.push(client);
	await client.sock.logout();
	expect(await client.closed()).toBe(401);
	expect(emu.device('15550000005').devices.length).toBe(0);
});
