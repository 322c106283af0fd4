// A bare Baileys client for the emulator tests: in-memory auth state, silenced logger, recorded
// events with bounded waits. The wahook daemon does not use this; it talks to the emulator itself.
import makeWASocket, { type AuthenticationCreds, type BaileysEventMap, Browsers, initAuthCreds, type UserFacingSocketConfig, type WASocket } from 'baileys';
import { memoryKeyStore } from './keystore.ts';
import { trustEmulatorRoot } from './noise.ts';
import { silentLogger } from './signal.ts';

export type MemoryAuth = { creds: AuthenticationCreds; keys: ReturnType<typeof memoryKeyStore> };
export const newAuth = (): MemoryAuth => ({ creds: initAuthCreds(), keys: memoryKeyStore() });

let mediaBase: string | undefined;
let fetchPatched = false;
/** Baileys always downloads from https://mmg.whatsapp.net<directPath>; send that to the
 * emulator's media host instead (what the daemon's WAHOOK_WA_MEDIA_URL setting does). */
export function rewriteMediaHost(base: string) {
	mediaBase = base;
	if (fetchPatched) return;
	fetchPatched = true;
	const orig = globalThis.fetch;
	const patched = ((input: string | URL | Request, init?: RequestInit) => {
		const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
		if (mediaBase && url.startsWith('https://mmg.whatsapp.net/')) {
			return orig(mediaBase + url.slice('https://mmg.whatsapp.net'.length), init);
		}
		return orig(input as never, init);
	}) as typeof fetch;
	globalThis.fetch = Object.assign(patched, orig);
}

type EventName = keyof BaileysEventMap;
export type ClientOptions = {
	url: string;
	mediaUrl?: string;
	auth?: MemoryAuth;
	/** process history sync (default true) */
	history?: boolean;
	connectTimeoutMs?: number;
	/** extra makeWASocket options (e.g. qrTimeout) */
	socket?: Partial<UserFacingSocketConfig>;
};

export type TestClient = Awaited<ReturnType<typeof startClient>>;

export function startClient(opts: ClientOptions) {
	trustEmulatorRoot();
	if (opts.mediaUrl) rewriteMediaHost(opts.mediaUrl);
	const auth = opts.auth ?? newAuth();
	const sock: WASocket = makeWASocket({
		waWebSocketUrl: opts.url,
		auth: { creds: auth.creds, keys: auth.keys },
		logger: silentLogger as never,
		browser: Browsers.macOS('Desktop'),
		syncFullHistory: true,
		shouldSyncHistoryMessage: () => opts.history ?? true,
		markOnlineOnConnect: false,
		connectTimeoutMs: opts.connectTimeoutMs ?? 10_000,
		defaultQueryTimeoutMs: 10_000,
		retryRequestDelayMs: 50,
		...opts.socket
	});
	const log: { [K in EventName]?: BaileysEventMap[K][] } = {};
	const waiters = new Set<{ name: EventName; pred: (v: never) => boolean; resolve: (v: never) => void }>();
	const record = <K extends EventName>(name: K) =>
		sock.ev.on(name, (v: BaileysEventMap[K]) => {
			((log[name] ??= []) as BaileysEventMap[K][]).push(v);
			for (const w of waiters) {
				if (w.name === name && w.pred(v as never)) {
					waiters.delete(w);
					w.resolve(v as never);
				}
			}
		});
	const names: EventName[] = [
		'connection.update',
		'creds.update',
		'messages.upsert',
		'messages.update',
		'messages.reaction',
		'messaging-history.set',
		'contacts.upsert',
		'contacts.update',
		'groups.update',
		'group-participants.update',
		'lid-mapping.update',
		'message-receipt.update'
	];
	for (const n of names) record(n);
	sock.ev.on('creds.update', u => Object.assign(auth.creds, u));

	const client = {
		sock,
		auth,
		log,
		events<K extends EventName>(name: K): BaileysEventMap[K][] {
			return (log[name] ?? []) as BaileysEventMap[K][];
		},
		/** resolve with the first past or future event matching pred, reject after timeoutMs */
		waitFor<K extends EventName>(name: K, pred: (v: BaileysEventMap[K]) => boolean = () => true, timeoutMs = 8000, fromPast = true): Promise<BaileysEventMap[K]> {
			if (fromPast) {
				const hit = ((log[name] ?? []) as BaileysEventMap[K][]).find(pred);
				if (hit) return Promise.resolve(hit);
			}
			return new Promise((resolve, reject) => {
				const w = { name, pred: pred as (v: never) => boolean, resolve: resolve as (v: never) => void };
				waiters.add(w);
				setTimeout(() => {
					if (waiters.delete(w)) reject(new Error(`timed out after ${timeoutMs} ms waiting for ${name}`));
				}, timeoutMs).unref?.();
			});
		},
		qr(timeoutMs = 8000) {
			return client.waitFor('connection.update', u => !!u.qr, timeoutMs).then(u => u.qr!);
		},
		open(timeoutMs = 8000) {
			return client.waitFor('connection.update', u => u.connection === 'open', timeoutMs);
		},
		/** resolves with the close status code */
		closed(timeoutMs = 8000) {
			return client
				.waitFor('connection.update', u => u.connection === 'close', timeoutMs)
				.then(u => (u.lastDisconnect?.error as { output?: { statusCode?: number } } | undefined)?.output?.statusCode);
		},
		/** all upserted messages so far, flattened */
		messages() {
			return client.events('messages.upsert').flatMap(u => u.messages.map(m => ({ ...m, upsertType: u.type })));
		},
		waitForMessage(pred: (m: BaileysEventMap['messages.upsert']['messages'][number]) => boolean, timeoutMs = 8000) {
			return client
				.waitFor('messages.upsert', u => u.messages.some(pred), timeoutMs)
				.then(u => u.messages.find(pred)!);
		},
		end() {
			try {
				sock.end(undefined);
			} catch {}
			sock.ev.removeAllListeners(undefined as never);
		}
	};
	return client;
}

/** Pair a fresh client by QR, follow the 515 restart, return the logged-in client (connection open). */
export async function pairByQr(
	emu: { scanQr(qr: string, o: { phone: string; pushName?: string }): unknown; url: string; mediaUrl: string },
	phone: string,
	opts: Partial<ClientOptions> & { pushName?: string } = {}
) {
	const first = startClient({ url: emu.url, mediaUrl: emu.mediaUrl, ...opts });
	const qr = await first.qr();
	emu.scanQr(qr, { phone, pushName: opts.pushName });
	const code = await first.closed();
	first.end();
	if (code !== 515) throw new Error(`expected 515 after pairing, got ${code}`);
	const second = startClient({ url: emu.url, mediaUrl: emu.mediaUrl, ...opts, auth: first.auth });
	await second.open();
	return { client: second, firstClose: code, auth: first.auth };
}
