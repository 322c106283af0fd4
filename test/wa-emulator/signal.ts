// Signal identities the emulator speaks for (contacts, and each account's own phone = device 0).
// Each is a real Baileys repository (makeLibSignalRepository) over an in-memory store, so the
// ciphertexts are exactly what an unmodified client expects.
import { type BinaryNode, encodeBigEndian, type extractE2ESessionFromRetryReceipt, generateSignalPubKey, DEFAULT_CONNECTION_CONFIG, initAuthCreds, proto } from 'baileys';
import { memoryKeyStore } from './keystore.ts';

export const silentLogger = {
	level: 'silent',
	child() {
		return silentLogger;
	},
	trace() {},
	debug() {},
	info() {},
	warn() {},
	error() {}
};

/** What a linked device uploaded: enough to open a Signal session towards it. */
export type DeviceBundle = {
	/** address the emulator's sessions use for this device (its LID device jid: no PN→LID lookups) */
	address: string;
	registrationId: number;
	identityKey: Buffer;
	signedPreKey: { id: number; pub: Buffer; sig: Buffer };
	preKeys: { id: number; pub: Buffer }[];
};

export type Encrypted = { type: 'pkmsg' | 'msg'; ciphertext: Buffer };
/** the device's keys as a retry receipt carries them (`<keys>`, from the second retry on) */
export type RetryKeys = NonNullable<ReturnType<typeof extractE2ESessionFromRetryReceipt>>;

/** Fixed 1-byte padding: Baileys strips "random max 16" padding, any length 1..16 is valid and a
 * constant keeps output deterministic. */
export const pad = (b: Uint8Array) => Buffer.concat([b, Buffer.from([1])]);
export const unpad = (b: Uint8Array) => {
	const n = b[b.length - 1] ?? 0;
	return Buffer.from(b.subarray(0, b.length - n));
};

export class Identity {
	readonly creds = initAuthCreds();
	readonly keys = memoryKeyStore();
	readonly repo = DEFAULT_CONNECTION_CONFIG.makeSignalRepository({ creds: this.creds, keys: this.keys }, silentLogger as never, async () => []);
	/** device addresses we already opened an outgoing session to */
	private readonly sessions = new Set<string>();
	/** (group, device) pairs that already got our sender key distribution message */
	readonly skdmSent = new Set<string>();

	/** @param jid the jid this identity signs group messages as (LID form) */
	constructor(readonly jid: string) {}

	async encryptTo(device: DeviceBundle, message: proto.IMessage): Promise<Encrypted> {
		if (!this.sessions.has(device.address)) await this.openSession(device);
		return this.encrypt(device, message);
	}

	/** a new session, as a sender answering a retry receipt opens one: from the keys the receipt
	 * carried, else from the device's next uploaded prekey; the message is a fresh pkmsg */
	async encryptFresh(device: DeviceBundle, message: proto.IMessage, keys?: RetryKeys): Promise<Encrypted> {
		await this.openSession(device, keys);
		return this.encrypt(device, message);
	}

	private async openSession(device: DeviceBundle, keys?: RetryKeys) {
		// a one-time prekey: the one the receipt carried, else the next one the device uploaded
		const next = keys?.preKey ? undefined : device.preKeys.shift();
		const bundle = keys ?? {
			registrationId: device.registrationId,
			identityKey: generateSignalPubKey(device.identityKey),
			signedPreKey: { keyId: device.signedPreKey.id, publicKey: generateSignalPubKey(device.signedPreKey.pub), signature: device.signedPreKey.sig }
		};
		const preKey = keys?.preKey ?? (next && { keyId: next.id, publicKey: generateSignalPubKey(next.pub) });
		await this.repo.injectE2ESession({ jid: device.address, session: { ...bundle, preKey } });
		this.sessions.add(device.address);
	}

	private async encrypt(device: DeviceBundle, message: proto.IMessage): Promise<Encrypted> {
		const r = await this.repo.encryptMessage({ jid: device.address, data: pad(proto.Message.encode(message).finish()) });
		return { type: r.type, ciphertext: Buffer.from(r.ciphertext) };
	}

	async encryptGroup(group: string, message: proto.IMessage) {
		const { ciphertext, senderKeyDistributionMessage } = await this.repo.encryptGroupMessage({
			group,
			meId: this.jid,
			data: pad(proto.Message.encode(message).finish())
		});
		return { ciphertext: Buffer.from(ciphertext), skdm: Buffer.from(senderKeyDistributionMessage) };
	}

	async decryptFrom(device: DeviceBundle, type: 'pkmsg' | 'msg', ciphertext: Uint8Array): Promise<proto.Message> {
		const plain = await this.repo.decryptMessage({ jid: device.address, type, ciphertext });
		// once the device talked to us, we share a session with it
		this.sessions.add(device.address);
		return proto.Message.decode(unpad(plain));
	}

	/** `<user>` node of an `encrypt`/`key` answer: our bundle without one-time prekey. */
	bundleNode(jid: string): BinaryNode {
		const c = this.creds;
		return {
			tag: 'user',
			attrs: { jid },
			content: [
				{ tag: 'registration', attrs: {}, content: encodeBigEndian(c.registrationId) },
				{ tag: 'type', attrs: {}, content: Buffer.from([5]) },
				{ tag: 'identity', attrs: {}, content: c.signedIdentityKey.public },
				{
					tag: 'skey',
					attrs: {},
					content: [
						{ tag: 'id', attrs: {}, content: encodeBigEndian(c.signedPreKey.keyId, 3) },
						{ tag: 'value', attrs: {}, content: c.signedPreKey.keyPair.public },
						{ tag: 'signature', attrs: {}, content: c.signedPreKey.signature }
					]
				}
			]
		};
	}
}

/** Undecryptable on purpose (first copy of an `undecryptable` send): a well-formed whisper message
 * (`msg`) from a Signal session the device never saw, opened by a throwaway sender without using
 * one of the device's prekeys. libsignal fails with "No session record", or "No matching sessions
 * found for message" when the device holds a session with the real sender; Baileys then upserts a
 * CIPHERTEXT stub and sends a retry receipt. (A replayed pkmsg would fail with "Key used already or
 * never filled" instead, which Baileys only nacks.) */
export async function strayWhisper(device: DeviceBundle, message: proto.IMessage): Promise<Buffer> {
	const { ciphertext } = await new Identity('0@lid').encryptTo({ ...device, preKeys: [] }, message);
	// a pkmsg is a version byte + PreKeyWhisperMessage, whose field 4 is the whisper message
	return bytesField(ciphertext.subarray(1), 4);
}

/** the group counterpart: a sender key message under a sender key the device never got ("No
 * session found to decrypt message" / "No SenderKeyRecord found for decryption") */
export async function straySenderKeyMessage(group: string, message: proto.IMessage): Promise<Buffer> {
	return (await new Identity('0@lid').encryptGroup(group, message)).ciphertext;
}

/** a length-delimited field of a protobuf message (varint and bytes fields only, as Signal's are) */
function bytesField(buf: Buffer, field: number): Buffer {
	let i = 0;
	const varint = () => {
		let v = 0;
		for (let shift = 0; ; shift += 7) {
			const b = buf[i++]!;
			v += (b & 0x7f) * 2 ** shift;
			if (!(b & 0x80)) return v;
		}
	};
	while (i < buf.length) {
		const key = varint();
		if ((key & 7) === 0) varint();
		else if ((key & 7) === 2) {
			const n = varint();
			if (key >>> 3 === field) return buf.subarray(i, i + n);
			i += n;
		} else throw new Error(`unexpected protobuf wire type ${key & 7}`);
	}
	throw new Error(`protobuf field ${field} missing`);
}

// libsignal logs every session rollover to the console ("Closing session: SessionEntry {…}"), and
// every undecryptable copy a client in this process fails on (the stray whisper messages above);
// in a test process that is pages of noise per run, so drop exactly those lines.
const NOISY = [
	'Closing session',
	'Closing open session',
	'Decrypted message with closed session',
	'Failed to decrypt message with any known session',
	'Session error:'
];
for (const level of ['info', 'warn', 'log', 'error'] as const) {
	const orig = console[level].bind(console);
	console[level] = (...args: unknown[]) => {
		if (typeof args[0] === 'string' && NOISY.some(p => (args[0] as string).startsWith(p))) return;
		orig(...args);
	};
}
