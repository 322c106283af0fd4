// The emulator's state (accounts = WhatsApp users with linked devices, contacts, groups) and its
// public library API. Transport, protocol and content details live in the files this imports.
import { EventEmitter } from 'node:events';
import type { BinaryNode } from 'baileys';
import { type Confirmation, confirm } from './confirmations.ts';
import { type DeviceHandle, makeDeviceHandle } from './device.ts';
import { type Group, GroupStore } from './groups.ts';
import { type HistoryOptions, sendInitialHistory } from './history.ts';
import { digits, IdGen, lidFor, lidJid, pnJid, S_WA } from './ids.ts';
import { MediaStore } from './media.ts';
import { enterPairingCode, scanQr } from './pairing.ts';
import { copyFor, type RetryRequest } from './retry.ts';
import { Session, type Registration } from './session.ts';
import { type DeviceBundle, Identity, type RetryKeys } from './signal.ts';
import { makeTls, type TlsMaterial } from './tls.ts';
import { startWsServer, type UpgradeVariant } from './ws-server.ts';

export type EmulatorOptions = {
	/** WebSocket port (0 = any free port) */
	port?: number;
	host?: string;
	/** seed for LIDs, message ids and generated content */
	seed?: string | number;
	/** also serve wss:// (and https media) with a self-signed certificate made at start */
	tls?: boolean;
	/** initial history sync sent after a device's first login */
	history?: Partial<HistoryOptions>;
	/** 101 answer variant (header case, extra headers) */
	upgrade?: UpgradeVariant;
	/** media links in messages: "whatsapp" (url on mmg.whatsapp.net, client rewrites the host, as
	 * WAHOOK_WA_MEDIA_URL does) or "local" (url on the emulator's https media host) */
	mediaLinks?: 'whatsapp' | 'local';
	/** after a login, space the queued (offline) stanzas this many ms apart (default 0) */
	offlinePaceMs?: number;
	log?: (...args: unknown[]) => void;
};

export type Contact = { phone: string; lid: string; pushName: string; identity: Identity };

export type Account = {
	phone: string;
	lid: string;
	pushName: string;
	/** the phone itself (device 0): signs device identities, sends fromMe/history/peer messages */
	primary: Identity;
	devices: Map<number, LinkedDevice>;
	nextDeviceId: number;
	history: HistoryOptions;
};

/** what a stanza is, for the confirmations report */
export type StanzaKind = 'message' | 'protocol' | 'history' | 'notification';

/** which copy of a message to build: the normal one, the deliberately undecryptable first copy, or
 * the answer to a retry receipt (a fresh session from the keys it carried or the uploaded prekeys) */
export type Copy = { type: 'normal' } | { type: 'undecryptable' } | { type: 'retry'; count: number; keys?: RetryKeys };

export type Outgoing = {
	id: string;
	kind: StanzaKind;
	/** built at delivery time: encryption must follow delivery order */
	build: (device: LinkedDevice, copy: Copy) => Promise<BinaryNode>;
	/** each device's first copy cannot be decrypted; its retry receipt is answered at once ('retry')
	 * or only after releaseRetry ('withhold') */
	undecryptable?: 'retry' | 'withhold';
};

export type SentRecord = {
	id: string;
	to: string;
	type: string;
	/** decrypted content when the emulator holds the recipient's keys */
	message?: Record<string, unknown>;
	category?: string;
	at: number;
};

export type LinkedDevice = {
	account: Account;
	id: number;
	jid: string;
	noiseKey: Buffer;
	bundle: DeviceBundle;
	session?: Session;
	/** logged in and holding prekeys: deliveries go straight out */
	ready: boolean;
	preKeysUploaded: boolean;
	queue: Outgoing[];
	/** sent but not yet receipted (acked, for notifications) by the device: WhatsApp delivers these
	 * again after a reconnect */
	unreceipted: Map<string, Outgoing>;
	/** what the device confirmed, and with which receipt types */
	confirmed: Map<string, Confirmation>;
	/** retry receipts the device sent for stanzas still unconfirmed */
	retries: Map<string, RetryRequest>;
	chain: Promise<void>;
	historySent: boolean;
	sent: SentRecord[];
	removed: boolean;
	/** logins so far (a reconnect storm counts that each device came back exactly once) */
	logins: number;
};

export type Fault =
	| { type: 'close'; code: number; via?: 'stream-error' | 'failure'; keepDevice?: boolean }
	| { type: 'drop' }
	| { type: 'xmlstreamend' }
	| { type: 'refuse'; ms: number }
	| { type: 'delay'; ms: number };

export class Emulator extends EventEmitter {
	readonly seed: string;
	readonly ids: IdGen;
	readonly accounts = new Map<string, Account>();
	readonly contacts = new Map<string, Contact>();
	readonly groups: GroupStore;
	readonly media: MediaStore;
	readonly pendingRefs = new Map<string, Session>();
	readonly pendingCodes = new Map<
		string,
		{ session: Session; wrapped: Buffer; ref: string; account?: Account; companionShared?: Buffer }
	>();
	readonly sessions = new Set<Session>();
	refuseUntil = 0;
	delayMs = 0;
	/** how long the emulated recipient takes to send the delivery receipt */
	receiptDelayMs = 30;
	/** pause between queued stanzas delivered after a login (a slow catch-up, as WhatsApp's is) */
	offlinePaceMs: number;
	upgrade: UpgradeVariant;
	mediaHostName = '127.0.0.1';
	readonly historyDefaults: HistoryOptions;

	constructor(readonly opts: EmulatorOptions) {
		super();
		this.setMaxListeners(0);
		this.seed = String(opts.seed ?? 'wa-emulator');
		this.ids = new IdGen(this.seed);
		this.groups = new GroupStore(this);
		this.media = new MediaStore(this);
		this.upgrade = opts.upgrade ?? {};
		this.offlinePaceMs = opts.offlinePaceMs ?? 0;
		this.historyDefaults = {
			enabled: true,
			messages: 0,
			chats: 3,
			chunks: 3,
			messagesPerChat: undefined,
			...opts.history
		};
	}

	log(...args: unknown[]) {
		this.opts.log?.(...args);
	}

	async answerDelay() {
		if (this.delayMs > 0) await new Promise(r => setTimeout(r, this.delayMs));
	}

	// ---- people ----

	account(phone: string, pushName?: string): Account {
		phone = digits(phone);
		let a = this.accounts.get(phone);
		if (!a) {
			const lid = lidFor(phone);
			a = {
				phone,
				lid,
				pushName: pushName ?? `User ${phone.slice(-4)}`,
				primary: new Identity(lidJid(lid)),
				devices: new Map(),
				nextDeviceId: 1,
				history: { ...this.historyDefaults }
			};
			this.accounts.set(phone, a);
		} else if (pushName) {
			a.pushName = pushName;
		}
		return a;
	}

	contact(phone: string, pushName?: string): Contact {
		phone = digits(phone);
		let c = this.contacts.get(phone);
		if (!c) {
			const lid = lidFor(phone);
			c = { phone, lid, pushName: pushName ?? `Contact ${phone.slice(-4)}`, identity: new Identity(lidJid(lid)) };
			this.contacts.set(phone, c);
		} else if (pushName) {
			c.pushName = pushName;
		}
		return c;
	}

	/** a contact or account by pn/lid jid (any device) */
	personForJid(jid: string): { lid: string; phone: string; deviceIds: number[] } | undefined {
		const user = jid.split('@')[0]!.split(':')[0]!;
		const server = jid.split('@')[1];
		for (const a of this.accounts.values()) {
			if ((server === S_WA && a.phone === user) || (server === 'lid' && a.lid === user)) return { lid: a.lid, phone: a.phone, deviceIds: [0] };
		}
		for (const c of this.contacts.values()) {
			if ((server === S_WA && c.phone === user) || (server === 'lid' && c.lid === user)) return { lid: c.lid, phone: c.phone, deviceIds: [0] };
		}
		// unknown numbers are created on first use, so a device can message anyone
		if (server === S_WA && /^\d{6,15}$/.test(user)) {
			const c = this.contact(user);
			return { lid: c.lid, phone: c.phone, deviceIds: [0] };
		}
		return undefined;
	}

	/** the Signal identity behind a device jid (contacts' and accounts' phones only) */
	identityForJid(jid: string, _asking?: LinkedDevice): Identity | undefined {
		const [userPart = '', server] = jid.split('@');
		const [user, dev] = userPart.split(':');
		if (dev && dev !== '0') return undefined;
		for (const a of this.accounts.values()) {
			if ((server === S_WA && a.phone === user) || (server === 'lid' && a.lid === user)) return a.primary;
		}
		for (const c of this.contacts.values()) {
			if ((server === S_WA && c.phone === user) || (server === 'lid' && c.lid === user)) return c.identity;
		}
		if (server === S_WA && user && /^\d{6,15}$/.test(user)) return this.contact(user).identity;
		return undefined;
	}

	// ---- devices ----

	newDevice(account: Account, id: number, reg: Registration): LinkedDevice {
		return {
			account,
			id,
			jid: pnJid(account.phone, id),
			noiseKey: reg.clientStatic,
			bundle: {
				address: lidJid(account.lid, id),
				registrationId: reg.registrationId,
				identityKey: reg.identityKey,
				signedPreKey: reg.signedPreKey,
				preKeys: []
			},
			ready: false,
			preKeysUploaded: false,
			queue: [],
			unreceipted: new Map(),
			confirmed: new Map(),
			retries: new Map(),
			chain: Promise.resolve(),
			historySent: false,
			sent: [],
			removed: false,
			logins: 0
		};
	}

	addDevice(d: LinkedDevice) {
		d.account.devices.set(d.id, d);
		this.emit('paired', { phone: d.account.phone, deviceId: d.id, jid: d.jid });
	}

	removeDevice(d: LinkedDevice | undefined) {
		if (!d) return;
		d.removed = true;
		d.account.devices.delete(d.id);
		this.emit('removed', { phone: d.account.phone, deviceId: d.id });
	}

	findDevice(phone: string, id: number): LinkedDevice | undefined {
		return this.accounts.get(phone)?.devices.get(id);
	}

	/** a returning device logged in on `session` */
	attach(device: LinkedDevice, session: Session) {
		const old = device.session;
		if (old && old !== session && !old.closed) {
			// WhatsApp allows one stream per device: the older one is told it was replaced (440)
			old.send({ tag: 'stream:error', attrs: {}, content: [{ tag: 'conflict', attrs: { type: 'replaced' } }] });
			old.end();
		}
		device.session = session;
		session.device = device;
		device.logins++;
		const a = device.account;
		session.send({
			tag: 'success',
			attrs: {
				t: String(Math.floor(Date.now() / 1000)),
				props: '1',
				abprops: '1',
				location: 'emu',
				creation: '1700000000',
				lid: lidJid(a.lid, device.id),
				display_name: a.pushName
			}
		});
		this.emit('connected', { phone: a.phone, deviceId: device.id });
		if (device.preKeysUploaded) this.goOnline(device);
	}

	detach(session: Session) {
		this.sessions.delete(session);
		const d = session.device;
		if (d && d.session === session) {
			d.session = undefined;
			d.ready = false;
			// Like WhatsApp: what the device never confirmed goes out again (re-encrypted) next time.
			d.queue.unshift(...d.unreceipted.values());
			d.unreceipted.clear();
			this.emit('disconnected', { phone: d.account.phone, deviceId: d.id });
		}
		for (const r of session.registration?.refs ?? []) this.pendingRefs.delete(r);
	}

	onPreKeysUploaded(device: LinkedDevice) {
		const first = !device.preKeysUploaded;
		device.preKeysUploaded = true;
		if (first && device.session && !device.ready) this.goOnline(device);
	}

	/** deliver what queued up while offline (paced by offlinePaceMs; what arrives meanwhile joins
	 * it), mark the end of offline delivery, first-time history */
	private goOnline(device: LinkedDevice) {
		const session = device.session;
		if (!session) return;
		device.chain = device.chain.then(async () => {
			let count = 0;
			for (;;) {
				if (count && this.offlinePaceMs > 0) await new Promise(r => setTimeout(r, this.offlinePaceMs));
				// a stanza leaves the queue only once sent, so a connection lost mid-way keeps the order
				const out = device.queue[0];
				if (!out) break;
				if (!(await this.transmit(device, out, true, session))) return;
				device.queue.shift();
				count++;
			}
			session.send({ tag: 'ib', attrs: { from: S_WA }, content: [{ tag: 'offline', attrs: { count: String(count) } }] });
			device.ready = true;
			this.emit('online', { phone: device.account.phone, deviceId: device.id, offline: count });
			if (!device.historySent) {
				device.historySent = true;
				void sendInitialHistory(this, device).catch(err => this.log('history error', err));
			}
		});
	}

	/** hand a stanza to every linked device of an account (now, or queued while offline) */
	deliver(account: Account, out: Outgoing) {
		for (const d of account.devices.values()) {
			if (d.ready && d.session) this.push(d, out, false);
			else d.queue.push(out);
		}
	}

	/** deliver to one device, in order */
	push(device: LinkedDevice, out: Outgoing, offline: boolean) {
		device.chain = device.chain.then(async () => {
			if (!(await this.transmit(device, out, offline, device.session))) device.queue.push(out);
		});
	}

	/** send a stanza in flight again (a retry answer); if the connection is gone by then, the stanza
	 * is back in the queue already and goes out after the next login */
	resend(device: LinkedDevice, out: Outgoing) {
		device.chain = device.chain.then(async () => {
			if (device.unreceipted.get(out.id) === out) await this.transmit(device, out, false, device.session);
		});
	}

	/** build (encrypt) and send on `session`; false when that connection is gone */
	private async transmit(device: LinkedDevice, out: Outgoing, offline: boolean, session: Session | undefined): Promise<boolean> {
		let node: BinaryNode;
		try {
			node = await out.build(device, copyFor(device, out));
		} catch (err) {
			this.log('build error', err);
			return true;
		}
		if (!session || session.closed || device.session !== session) return false;
		if (offline) node.attrs.offline = '1';
		session.send(node);
		if (node.tag === 'message' || node.tag === 'notification') device.unreceipted.set(out.id, out);
		return true;
	}

	onDeviceAck(session: Session, node: BinaryNode) {
		// Baileys acks notifications (messages get receipts)
		if (node.attrs.class === 'notification' && session.device) confirm(session.device, [node.attrs.id ?? ''], 'ack');
	}

	/** A receipt from a contact for a message the account sent (from its phone or a linked
	 * device), as WhatsApp fans it out to every device of the sender: delivered, read, played.
	 * In a group the contact is the receipt's participant. */
	receipt(phone: string, r: { id: string; from: string; type?: 'delivery' | 'read' | 'played'; group?: string; via?: 'lid' | 'pn' }) {
		const contact = this.contact(r.from);
		const jid = r.via === 'pn' ? pnJid(contact.phone) : lidJid(contact.lid);
		const attrs: Record<string, string> = r.group ? { id: r.id, from: r.group, participant: jid, t: String(Math.floor(Date.now() / 1000)) } : { id: r.id, from: jid, t: String(Math.floor(Date.now() / 1000)) };
		if (r.type && r.type !== 'delivery') attrs.type = r.type;
		const sessions = this.sessionsOf(phone);
		for (const s of sessions) s.send({ tag: 'receipt', attrs });
		return { sent: sessions.length };
	}

	// ---- faults ----

	fault(phone: string | undefined, f: Fault) {
		if (f.type === 'refuse') {
			this.refuseUntil = Date.now() + f.ms;
			for (const s of this.sessionsOf(phone)) s.drop();
			return;
		}
		if (f.type === 'delay') {
			this.delayMs = f.ms;
			return;
		}
		for (const s of this.sessionsOf(phone)) {
			if (f.type === 'drop') s.drop();
			else if (f.type === 'xmlstreamend') {
				s.send({ tag: 'xmlstreamend', attrs: {} });
				s.end();
			} else {
				if (f.code === 401 && !f.keepDevice) this.removeDevice(s.device);
				if (f.via === 'failure') s.send({ tag: 'failure', attrs: { reason: String(f.code), location: 'emu' } });
				else if (f.code === 440) s.send({ tag: 'stream:error', attrs: {}, content: [{ tag: 'conflict', attrs: { type: 'replaced' } }] });
				else if (f.code === 401)
					s.send({ tag: 'stream:error', attrs: { code: '401' }, content: [{ tag: 'conflict', attrs: { type: 'device_removed' } }] });
				else s.send({ tag: 'stream:error', attrs: { code: String(f.code) } });
				s.end();
			}
		}
	}

	private sessionsOf(phone: string | undefined): Session[] {
		return [...this.sessions].filter(s => !phone || s.device?.account.phone === digits(phone));
	}

	// ---- pairing entry points ----

	scanQr(qr: string, opts: { phone: string; pushName?: string }) {
		return scanQr(this, qr, opts);
	}

	pairWithCode(phone: string, code: string, pushName?: string) {
		return enterPairingCode(this, phone, code, pushName);
	}

	device(phone: string): DeviceHandle {
		return makeDeviceHandle(this, this.account(phone));
	}

	group(id: string): Group | undefined {
		return this.groups.get(id);
	}
}

export type StartedEmulator = Emulator & {
	/** ws:// URL for makeWASocket({ waWebSocketUrl }) */
	url: string;
	/** wss:// URL (only with tls: true) */
	wssUrl?: string;
	/** http base URL of the media host (rewrite https://mmg.whatsapp.net to this) */
	mediaUrl: string;
	mediaHttpsUrl?: string;
	adminUrl?: string;
	/** PEM of the self-signed certificate (its own CA) when tls is on */
	ca?: string;
	tlsMaterial?: TlsMaterial;
	port: number;
	close(): Promise<void>;
};

export async function startEmulator(opts: EmulatorOptions = {}): Promise<StartedEmulator> {
	const emu = new Emulator(opts) as StartedEmulator;
	const host = opts.host ?? '127.0.0.1';
	const onConnection = (conn: Parameters<Parameters<typeof startWsServer>[0]['onConnection']>[0]) => {
		const s = new Session(emu, conn);
		emu.sessions.add(s);
	};
	const accept = () => Date.now() >= emu.refuseUntil;
	const ws = await startWsServer({ port: opts.port ?? 0, host, upgradeVariant: () => emu.upgrade, accept, onConnection });
	const closers: (() => Promise<void> | void)[] = [() => ws.close()];
	emu.port = ws.port;
	emu.url = `ws://${host}:${ws.port}/ws/chat`;
	const tls = opts.tls ? await makeTls() : undefined;
	if (tls) {
		const wss = await startWsServer({ port: 0, host, tls, upgradeVariant: () => emu.upgrade, accept, onConnection });
		closers.push(() => wss.close());
		emu.wssUrl = `wss://localhost:${wss.port}/ws/chat`;
		emu.ca = tls.cert;
		emu.tlsMaterial = tls;
	}
	const media = emu.media.serve(host, tls);
	closers.push(() => media.stop());
	emu.mediaUrl = media.url;
	emu.mediaHttpsUrl = media.httpsUrl;
	// uploads go to https://<media_conn host>/mms/…: the CDN name in "whatsapp" mode (the client's
	// rewrite sends it to mediaUrl), our https host in "local" mode
	emu.mediaHostName = opts.mediaLinks === 'local' && media.httpsUrl ? new URL(media.httpsUrl).host : 'mmg.whatsapp.net';
	emu.close = async () => {
		for (const s of emu.sessions) s.drop();
		for (const c of closers) await c();
	};
	return emu;
}
