// Signal identities the emulator speaks for (contacts, and each account's own phone = device 0).
// Each is a real Baileys repository (makeLibSignalRepository) over an in-memory store, so the
// ciphertexts are exactly what an unmodified client expects.
import { type BinaryNode, encodeBigEndian, generateSignalPubKey, DEFAULT_CONNECTION_CONFIG, initAuthCreds, proto } from 'baileys';
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
		if (!this.sessions.has(device.address)) {
			const preKey = device.preKeys.shift();
			await this.repo.injectE2ESession({
				jid: device.address,
				session: {
					registrationId: device.registrationId,
					identityKey: generateSignalPubKey(device.identityKey),
					signedPreKey: {
						keyId: device.signedPreKey.id,
						publicKey: generateSignalPubKey(device.signedPreKey.pub),
						signature: device.signedPreKey.sig
					},
					preKey: preKey ? { keyId: preKey.id, publicKey: generateSignalPubKey(preKey.pub) } : (undefined as never)
				}
			});
			this.sessions.add(device.address);
		}
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

// libsignal logs every session rollover to the console ("Closing session: SessionEntry {…}");
// in a test process that is pages of noise per run, so drop exactly those lines.
const NOISY = ['Closing session', 'Closing open session', 'Decrypted message with closed session'];
for (const level of ['info', 'warn', 'log'] as const) {
	const orig = console[level].bind(console);
	console[level] = (...args: unknown[]) => {
		if (typeof args[0] === 'string' && NOISY.some(p => (args[0] as string).startsWith(p))) return;
		orig(...args);
	};
}
