// Baseline: emulator → bare Baileys `messages.upsert`, messages/s and latency (send decision in the
// emulator, including Signal encryption, to the upsert event in the client).
// Prints JSON lines (bench/lib.ts). Usage: bun bench/emulator.ts [--count 3000] [--rate 500] [--mode both|inproc|process]
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pairByQr, startClient, type TestClient } from '../test/wa-emulator/client.ts';
import { startEmulator } from '../test/wa-emulator/emulator.ts';
import { emit, percentile } from './lib.ts';

const { values } = parseArgs({
	options: {
		count: { type: 'string', default: '3000' },
		rate: { type: 'string', default: '500' },
		mode: { type: 'string', default: 'both' }
	}
});
const COUNT = Number(values.count);
const RATE = Number(values.rate);

const wall = () => performance.timeOrigin + performance.now();

/** count upserts whose text starts with prefix; resolve with per-message latency when all arrived */
function collect(client: TestClient, prefix: string, count: number, timeoutMs: number) {
	const lat: number[] = [];
	let last = 0;
	return new Promise<{ lat: number[]; last: number }>((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error(`only ${lat.length}/${count} arrived`)), timeoutMs);
		client.sock.ev.on('messages.upsert', ({ messages }) => {
			const now = wall();
			for (const m of messages) {
				const t = m.message?.conversation;
				if (!t?.startsWith(prefix + ' ')) continue;
				lat.push(now - Number(t.split(' ')[2]));
				last = now;
			}
			if (lat.length >= count) {
				clearTimeout(timer);
				resolve({ lat, last });
			}
		});
	});
}

function report(mode: string, kind: string, count: number, started: number, r: { lat: number[]; last: number }) {
	const sorted = [...r.lat].sort((a, b) => a - b);
	const seconds = (r.last - started) / 1000;
	const extra = { mode, kind, messages: count, seconds: +seconds.toFixed(3), max_ms: +(sorted.at(-1) ?? NaN).toFixed(2) };
	const where = mode === 'inproc' ? 'in one process' : 'emulator in its own process';
	if (kind === 'burst') {
		emit({ bench: 'emulator', metric: `emulator → bare Baileys upsert throughput, ${where}`, value: count / seconds, unit: 'msg/s', target: '≥ 1000 msg/s', pass: count / seconds >= 1000, extra });
		return;
	}
	emit({ bench: 'emulator', metric: `emulator → bare Baileys upsert latency p50 at ${kind}, ${where}`, value: percentile(sorted, 50), unit: 'ms', extra });
	emit({ bench: 'emulator', metric: `emulator → bare Baileys upsert latency p99 at ${kind}, ${where}`, value: percentile(sorted, 99), unit: 'ms', extra });
}

type Driver = { burst(o: { count: number; rate?: number; prefix: string }): Promise<void>; url: string; close(): Promise<void> };

async function inProcess(): Promise<Driver & { scan(qr: string, phone: string): void }> {
	const emu = await startEmulator({ seed: 'bench', history: { enabled: false } });
	return {
		url: emu.url,
		scan: (qr, phone) => void emu.scanQr(qr, { phone }),
		burst: async o => void emu.device('15550009000').sendBurst({ ...o, contacts: 20 }),
		close: () => emu.close()
	};
}

async function separateProcess(): Promise<Driver & { scan(qr: string, phone: string): Promise<void> }> {
	const child = Bun.spawn(['bun', join(import.meta.dir, '../test/wa-emulator/main.ts'), '--port', '0', '--seed', 'bench', '--no-history'], { stdout: 'pipe' });
	const reader = (child.stdout as ReadableStream<Uint8Array>).getReader();
	let buf = '';
	while (!buf.includes('\n')) buf += Buffer.from((await reader.read()).value ?? []).toString();
	const info = JSON.parse(buf.slice(0, buf.indexOf('\n'))) as { url: string; adminUrl: string };
	const post = (path: string, body: unknown) => fetch(info.adminUrl + path, { method: 'POST', body: JSON.stringify(body) }).then(r => r.json());
	return {
		url: info.url,
		scan: async (qr, phone) => void (await post(`/devices/${phone}/scan`, { qr })),
		burst: async o => void (await post('/devices/15550009000/burst', { ...o, contacts: 20 })),
		close: async () => {
			child.kill('SIGTERM');
			await child.exited;
		}
	};
}

async function run(mode: 'inproc' | 'process') {
	const d = mode === 'inproc' ? await inProcess() : await separateProcess();
	const first = startClient({ url: d.url, history: false });
	const qr = await first.qr();
	await d.scan(qr, '15550009000');
	await first.closed();
	first.end();
	const client = startClient({ url: d.url, history: false, auth: first.auth });
	await client.open();
	await client.waitFor('connection.update', u => u.receivedPendingNotifications === true);
	// warm-up: open the Signal sessions
	const warm = collect(client, 'warm', 40, 20_000);
	await d.burst({ count: 40, prefix: 'warm' });
	await warm;
	// throughput: everything at once
	let started = wall();
	const tp = collect(client, 'burst', COUNT, 120_000);
	await d.burst({ count: COUNT, prefix: 'burst' });
	report(mode, 'burst', COUNT, started, await tp);
	// latency at a steady rate
	const n = Math.min(COUNT, RATE * 4);
	started = wall();
	const paced = collect(client, 'paced', n, 120_000);
	await d.burst({ count: n, rate: RATE, prefix: 'paced' });
	report(mode, `paced ${RATE}/s`, n, started, await paced);
	client.end();
	await d.close();
}

if (values.mode !== 'process') await run('inproc');
if (values.mode !== 'inproc') await run('process');
process.exit(0);
