// Linking a new companion: QR refs, "scanning" a QR with the emulated phone, pairing codes
// (link_code_companion_reg), pair-success signed by the account's identity, then the 515 restart.
// The client-side counterpart is baileys/lib/Utils/validate-connection.js (configureSuccessfulPairing)
// and the link_code_companion_reg branch of Socket/messages-recv.js.
import { randomBytes } from 'node:crypto';
import {
	aesDecryptCTR,
	aesDecryptGCM,
	aesEncryptCTR,
	type BinaryNode,
	Curve,
	derivePairingCodeKey,
	getBinaryNodeChild,
	getBinaryNodeChildBuffer,
	hkdf,
	hmacSign,
	proto
} from 'baileys';
import type { Account, Emulator, LinkedDevice } from './emulator.ts';
import { digits, lidJid, pnJid } from './ids.ts';
import type { Session } from './session.ts';

const SRV = 's.whatsapp.net';

export function startRegistration(session: Session, payload: proto.ClientPayload, clientStatic: Buffer) {
	const d = payload.devicePairingData!;
	const refs = Array.from({ length: 6 }, () => `2@${randomBytes(24).toString('base64')}`);
	session.registration = {
		clientStatic,
		identityKey: Buffer.from(d.eIdent!),
		registrationId: Buffer.from(d.eRegid!).readUInt32BE(0),
		signedPreKey: {
			id: Buffer.concat([Buffer.alloc(1), Buffer.from(d.eSkeyId!)]).readUInt32BE(0),
			pub: Buffer.from(d.eSkeyVal!),
			sig: Buffer.from(d.eSkeySig!)
		},
		refs
	};
	for (const r of refs) session.emu.pendingRefs.set(r, session);
	session.send({
		tag: 'iq',
		attrs: { from: SRV, type: 'set', id: session.nextId(), xmlns: 'md' },
		content: [
			{ tag: 'pair-device', attrs: {}, content: refs.map(r => ({ tag: 'ref', attrs: {}, content: Buffer.from(r) })) }
		]
	});
}

/** Parse what the client shows: optional "https://wa.me/settings/linked_devices#" prefix, then
 * `ref,noiseKeyB64,identityKeyB64,advSecretB64[,platform]`. */
export function parseQr(qr: string) {
	const body = qr.includes('#') ? qr.slice(qr.indexOf('#') + 1) : qr;
	const [ref = '', noise = '', identity = '', adv = ''] = body.split(',');
	return { ref, noiseKey: Buffer.from(noise, 'base64'), identityKey: Buffer.from(identity, 'base64'), advSecret: Buffer.from(adv, 'base64') };
}

export function scanQr(emu: Emulator, qr: string, opts: { phone: string; pushName?: string }): LinkedDevice {
	const { ref, noiseKey, identityKey, advSecret } = parseQr(qr);
	const session = emu.pendingRefs.get(ref);
	if (!session || session.closed || !session.registration) throw new Error('unknown or expired QR ref');
	const reg = session.registration;
	if (!reg.clientStatic.equals(noiseKey) || !reg.identityKey.equals(identityKey)) throw new Error('QR keys do not match the connection');
	const account = emu.account(digits(opts.phone), opts.pushName);
	return completePairing(session, account, advSecret);
}

function completePairing(session: Session, account: Account, advSecret: Buffer): LinkedDevice {
	const emu = session.emu;
	const reg = session.registration!;
	for (const r of reg.refs) emu.pendingRefs.delete(r);
	const deviceId = account.nextDeviceId++;
	const accountKey = account.primary.creds.signedIdentityKey;
	const details = proto.ADVDeviceIdentity.encode({
		rawId: Number(BigInt(account.phone) % 4000000000n),
		timestamp: Math.floor(Date.now() / 1000),
		keyIndex: deviceId
	}).finish();
	const accountSignature = Curve.sign(accountKey.private, Buffer.concat([Buffer.from([6, 0]), details, reg.identityKey]));
	const signed = proto.ADVSignedDeviceIdentity.encode({
		details,
		accountSignatureKey: accountKey.public,
		accountSignature
	}).finish();
	const withHmac = proto.ADVSignedDeviceIdentityHMAC.encode({ details: signed, hmac: hmacSign(signed, advSecret) }).finish();
	const device: LinkedDevice = emu.newDevice(account, deviceId, reg);
	const id = session.nextId();
	session.pendingPair = { id, device };
	session.send({
		tag: 'iq',
		attrs: { from: SRV, type: 'set', id, t: String(Math.floor(Date.now() / 1000)) },
		content: [
			{
				tag: 'pair-success',
				attrs: {},
				content: [
					{ tag: 'device-identity', attrs: {}, content: withHmac },
					{ tag: 'platform', attrs: { name: 'android' } },
					{ tag: 'device', attrs: { jid: pnJid(account.phone, deviceId), lid: lidJid(account.lid, deviceId) } }
				]
			}
		]
	});
	return device;
}

/** Answers to the iqs we sent: the signed device identity closes pairing with a 515 restart. */
export function onIqResult(session: Session, node: BinaryNode) {
	const pending = session.pendingPair;
	if (pending && node.attrs.id === pending.id) {
		session.pendingPair = undefined;
		if (node.attrs.type !== 'result' || !getBinaryNodeChild(node, 'pair-device-sign')) {
			session.emu.log('pairing rejected by client');
			return;
		}
		session.emu.addDevice(pending.device);
		session.send({ tag: 'stream:error', attrs: { code: '515' } });
		session.end();
	}
}

// ---- pairing code ----

export function onLinkCodeHello(session: Session, iq: BinaryNode, reg: BinaryNode) {
	const phone = digits(reg.attrs.jid ?? '');
	const wrapped = getBinaryNodeChildBuffer(reg, 'link_code_pairing_wrapped_companion_ephemeral_pub');
	const ref = randomBytes(16).toString('hex');
	if (wrapped) session.emu.pendingCodes.set(phone, { session, wrapped: Buffer.from(wrapped), ref });
	session.send({
		tag: 'iq',
		attrs: { from: SRV, type: 'result', id: iq.attrs.id! },
		content: [
			{
				tag: 'link_code_companion_reg',
				attrs: {},
				content: [{ tag: 'link_code_pairing_ref', attrs: {}, content: Buffer.from(ref) }]
			}
		]
	});
}

/** The user typed `code` into the phone of `phone`. */
export async function enterPairingCode(emu: Emulator, phone: string, code: string, pushName?: string) {
	// the client's companion_hello may still be in flight: wait for it a little
	let pending = emu.pendingCodes.get(digits(phone));
	for (let i = 0; i < 100 && (!pending || pending.session.closed); i++) {
		await new Promise(r => setTimeout(r, 20));
		pending = emu.pendingCodes.get(digits(phone));
	}
	if (!pending || pending.session.closed) throw new Error(`no pairing code request pending for ${phone}`);
	const code8 = code.replace(/[^0-9A-Za-z]/g, '').toUpperCase();
	const w = pending.wrapped;
	const companionEph = aesDecryptCTR(w.subarray(48, 80), await derivePairingCodeKey(code8, w.subarray(0, 32)), w.subarray(32, 48));
	const account = emu.account(digits(phone), pushName);
	const primaryEph = Curve.generateKeyPair();
	const salt = randomBytes(32);
	const iv = randomBytes(16);
	const wrappedPrimary = Buffer.concat([salt, iv, aesEncryptCTR(primaryEph.public, await derivePairingCodeKey(code8, salt), iv)]);
	pending.account = account;
	pending.companionShared = Curve.sharedKey(primaryEph.private, companionEph);
	pending.session.send({
		tag: 'notification',
		attrs: { from: SRV, type: 'link_code_companion_reg', id: pending.session.nextId(), t: String(Math.floor(Date.now() / 1000)) },
		content: [
			{
				tag: 'link_code_companion_reg',
				attrs: {},
				content: [
					{ tag: 'link_code_pairing_ref', attrs: {}, content: Buffer.from(pending.ref) },
					{ tag: 'primary_identity_pub', attrs: {}, content: account.primary.creds.signedIdentityKey.public },
					{ tag: 'link_code_pairing_wrapped_primary_ephemeral_pub', attrs: {}, content: wrappedPrimary }
				]
			}
		]
	});
}

export function onLinkCodeFinish(session: Session, iq: BinaryNode, reg: BinaryNode) {
	session.send({ tag: 'iq', attrs: { from: SRV, type: 'result', id: iq.attrs.id! } });
	const phone = [...session.emu.pendingCodes.entries()].find(([, p]) => p.session === session)?.[0];
	const pending = phone ? session.emu.pendingCodes.get(phone) : undefined;
	const bundle = getBinaryNodeChildBuffer(reg, 'link_code_pairing_wrapped_key_bundle');
	if (!phone || !pending?.account || !pending.companionShared || !bundle) return;
	session.emu.pendingCodes.delete(phone);
	const b = Buffer.from(bundle);
	const key = hkdf(pending.companionShared, 32, { salt: b.subarray(0, 32), info: 'link_code_pairing_key_bundle_encryption_key' });
	const plain = aesDecryptGCM(b.subarray(44), Buffer.from(key), b.subarray(32, 44), Buffer.alloc(0));
	const companionIdentity = plain.subarray(0, 32);
	const random = plain.subarray(64, 96);
	const identityShared = Curve.sharedKey(pending.account.primary.creds.signedIdentityKey.private, companionIdentity);
	const advSecret = Buffer.from(hkdf(Buffer.concat([pending.companionShared, identityShared, random]), 32, { info: 'adv_secret' }));
	completePairing(session, pending.account, advSecret);
}
