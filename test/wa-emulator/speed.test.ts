import { expect, test } from 'bun:test';
import { pairByQr } from './client.ts';
import { startEmulator } from './emulator.ts';

test('at least 1,000 messages/s to one connected client', async () => {
	const emu = await startEmulator({ seed: 'speed', history: { enabled: false } });
	const { client } = await pairByQr(emu, '15550008000', { history: false });
	try {
		await client.waitFor('connection.update', u => u.receivedPendingNotifications === true);
		const dev = emu.device('15550008000');
		await dev.sendBurst({ count: 20, prefix: 'warm' });
		await client.waitForMessage(m => m.message?.conversation?.startsWith('warm 19 ') ?? false);
		const N = 2000;
		const t0 = performance.now();
		await dev.sendBurst({ count: N, prefix: 'speed' });
		await client.waitForMessage(m => m.message?.conversation?.startsWith(`speed ${N - 1} `) ?? false, 10_000);
		const perSec = N / ((performance.now() - t0) / 1000);
		expect(client.messages().filter(m => m.message?.conversation?.startsWith('speed ')).length).toBe(N);
		expect(perSec).toBeGreaterThan(1000);
	} finally {
		client.end();
		await emu.close();
	}
}, 20_000);

test('same seed, same conversation: ids, LIDs and texts match across runs', async () => {
	const run = async () => {
		const emu = await startEmulator({ seed: 'determinism', history: { enabled: false } });
		const { client } = await pairByQr(emu, '15550008001', { history: false });
		try {
			const dev = emu.device('15550008001');
			const ids = [];
			ids.push((await dev.sendText({ from: '15551230801', text: 'one' })).id);
			ids.push((await dev.sendText({ from: '15551230802', text: 'two', via: 'pn' })).id);
			ids.push((await dev.sendMedia({ from: '15551230801', kind: 'image' })).id);
			const got = [];
			for (const id of ids) {
				const m = await client.waitForMessage(x => x.key.id === id);
				got.push({ id: m.key.id, jid: m.key.remoteJid, alt: m.key.remoteJidAlt, text: m.message?.conversation, sha: m.message?.imageMessage?.fileSha256 });
			}
			return JSON.stringify(got);
		} finally {
			client.end();
			await emu.close();
		}
	};
	expect(await run()).toBe(await run());
});
