// Server side of WhatsApp Web's Noise_XX_25519_AESGCM_SHA256 handshake, mirroring the client in
// baileys/lib/Utils/noise-handler.js step for step (same hash chain, same single IV counter during
// the handshake), plus the certificate chain the client checks against WA_CERT_DETAILS.
import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import { aesDecryptGCM, aesEncryptGCM, Curve, hkdf, NOISE_MODE, NOISE_WA_HEADER, proto, WA_CERT_DETAILS } from 'baileys';

export type KeyPair = { private: Buffer; public: Buffer };

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest();

/** X25519 key pair from a seed string, so the emulator's root key (and thus the public key a client
 * must trust) is the same on every run and in every process. */
export function keyPairFromSeed(seed: string): KeyPair {
	const priv = sha256(Buffer.from(seed));
	priv[0]! &= 248;
	priv[31]! &= 127;
	priv[31]! |= 64;
	const key = createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', d: priv.toString('base64url'), x: '' }, format: 'jwk' });
	const jwk = createPublicKey(key).export({ format: 'jwk' });
	return { private: priv, public: Buffer.from(jwk.x as string, 'base64url') };
}

/** Root key the emulator signs its intermediate certificate with. Clients trust it by setting
 * `WA_CERT_DETAILS.PUBLIC_KEY` (a mutable exported object in Baileys) to `ROOT_KEY.public`. */
export const ROOT_KEY = keyPairFromSeed('wahook wa-emulator root key v1');
export const ROOT_PUBLIC_KEY_HEX = ROOT_KEY.public.toString('hex');

/** Make this process's Baileys accept certificates signed by the emulator's root. */
export function trustEmulatorRoot(): void {
	WA_CERT_DETAILS.PUBLIC_KEY = Buffer.from(ROOT_KEY.public);
	WA_CERT_DETAILS.SERIAL = 0;
}

/** Encoded proto.CertChain: intermediate signed by the root, leaf (our static key) by the intermediate. */
export function makeCertChain(serverStaticPublic: Uint8Array, intermediate: { private: Uint8Array; public: Uint8Array }): Uint8Array {
	const intDetails = proto.CertChain.NoiseCertificate.Details.encode({
		serial: 1,
		issuerSerial: WA_CERT_DETAILS.SERIAL,
		key: intermediate.public,
		notBefore: 0,
		notAfter: 4102444800
	}).finish();
	const leafDetails = proto.CertChain.NoiseCertificate.Details.encode({
		serial: 2,
		issuerSerial: 1,
		key: serverStaticPublic,
		notBefore: 0,
		notAfter: 4102444800
	}).finish();
	return proto.CertChain.encode({
		intermediate: { details: intDetails, signature: Curve.sign(ROOT_KEY.private, intDetails) },
		leaf: { details: leafDetails, signature: Curve.sign(intermediate.private, leafDetails) }
	}).finish();
}

const ivFor = (counter: number) => {
	const iv = Buffer.alloc(12);
	iv.writeUInt32BE(counter, 8);
	return iv;
};

/** Transport keys after the handshake; each direction has its own counter. */
export class Transport {
	private readCounter = 0;
	private writeCounter = 0;
	constructor(
		private readonly encKey: Uint8Array,
		private readonly decKey: Uint8Array
	) {}
	encrypt(plain: Uint8Array): Buffer {
		return aesEncryptGCM(plain, this.encKey, ivFor(this.writeCounter++), Buffer.alloc(0));
	}
	decrypt(cipher: Uint8Array): Buffer {
		return aesDecryptGCM(cipher, this.decKey, ivFor(this.readCounter++), Buffer.alloc(0));
	}
}

export type HandshakeResult = { transport: Transport; clientStatic: Buffer; payload: proto.ClientPayload };

/** One server-side handshake. Call `hello(clientEphemeral)` to get the ServerHello bytes, then
 * `finish(clientFinishBytes)` to get the transport and the client's ClientPayload. */
export class ServerHandshake {
	private hash: Buffer;
	private salt: Buffer;
	private key: Buffer;
	private counter = 0;
	private readonly ephemeral = Curve.generateKeyPair();
	private readonly staticKey = Curve.generateKeyPair();
	private readonly intermediate = Curve.generateKeyPair();

	constructor() {
		const mode = Buffer.from(NOISE_MODE);
		this.hash = mode.length === 32 ? mode : sha256(mode);
		this.salt = this.hash;
		this.key = this.hash;
		this.authenticate(NOISE_WA_HEADER);
	}
	private authenticate(data: Uint8Array) {
		this.hash = sha256(Buffer.concat([this.hash, data]));
	}
	private mix(dh: Uint8Array) {
		const out = Buffer.from(hkdf(Buffer.from(dh), 64, { salt: this.salt, info: '' }));
		this.salt = out.subarray(0, 32);
		this.key = out.subarray(32);
		this.counter = 0;
	}
	private encrypt(plain: Uint8Array) {
		const c = aesEncryptGCM(Buffer.from(plain), this.key, ivFor(this.counter++), this.hash);
		this.authenticate(c);
		return c;
	}
	private decrypt(cipher: Uint8Array) {
		const p = aesDecryptGCM(cipher, this.key, ivFor(this.counter++), this.hash);
		this.authenticate(cipher);
		return p;
	}

	hello(clientHelloBytes: Uint8Array): Uint8Array {
		const msg = proto.HandshakeMessage.decode(clientHelloBytes);
		const clientEph = msg.clientHello?.ephemeral;
		if (!clientEph?.length) throw new Error('handshake: no client ephemeral');
		this.clientEph = Buffer.from(clientEph);
		this.authenticate(this.clientEph);
		this.authenticate(this.ephemeral.public);
		this.mix(Curve.sharedKey(this.ephemeral.private, this.clientEph));
		const staticEnc = this.encrypt(this.staticKey.public);
		this.mix(Curve.sharedKey(this.staticKey.private, this.clientEph));
		const payload = this.encrypt(Buffer.from(makeCertChain(this.staticKey.public, this.intermediate)));
		return proto.HandshakeMessage.encode({
			serverHello: { ephemeral: this.ephemeral.public, static: staticEnc, payload }
		}).finish();
	}
	private clientEph: Buffer = Buffer.alloc(0);

	finish(clientFinishBytes: Uint8Array): HandshakeResult {
		const msg = proto.HandshakeMessage.decode(clientFinishBytes);
		const fin = msg.clientFinish;
		if (!fin?.static || !fin.payload) throw new Error('handshake: bad client finish');
		const clientStatic = this.decrypt(fin.static);
		this.mix(Curve.sharedKey(this.ephemeral.private, clientStatic));
		const payload = proto.ClientPayload.decode(this.decrypt(fin.payload));
		const out = Buffer.from(hkdf(Buffer.alloc(0), 64, { salt: this.salt, info: '' }));
		// the client encrypts with the first half, so that is our decryption key
		const transport = new Transport(out.subarray(32), out.subarray(0, 32));
		return { transport, clientStatic, payload };
	}
}
