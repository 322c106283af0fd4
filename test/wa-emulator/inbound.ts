// Stanzas from the linked device: its messages (acked, decrypted with the recipient identity we
// hold, recorded, answered with delivery receipts so Baileys' "sent" path completes) and receipts.
import { type BinaryNode, getBinaryNodeChild, getBinaryNodeChildren, proto } from 'baileys';
import { confirm } from './confirmations.ts';
import type { SentRecord } from './emulator.ts';
import { answerOnDemandHistory } from './history.ts';
import { S_WA } from './ids.ts';
import { onRetryReceipt } from './retry.ts';
import type { Session } from './session.ts';

const now = () => String(Math.floor(Date.now() / 1000));

export async function handleDeviceMessage(session: Session, node: BinaryNode) {
	const emu = session.emu;
	const device = session.device;
	const { id = '', to = '' } = node.attrs;
	session.send({ tag: 'ack', attrs: { class: 'message', id, from: to, t: now() } });
	if (!device) return;
	// 1:1 ciphertexts are per recipient device under <participants><to jid>; peer messages
	// (to our own phone) carry a bare <enc>
	const targets: { jid: string; enc: BinaryNode }[] = [];
	for (const t of getBinaryNodeChildren(getBinaryNodeChild(node, 'participants'), 'to')) {
		const enc = getBinaryNodeChild(t, 'enc');
		if (enc) targets.push({ jid: t.attrs.jid!, enc });
	}
	const bare = getBinaryNodeChildren(node, 'enc');
	for (const enc of bare) if (enc.attrs.type !== 'skmsg') targets.push({ jid: to, enc });
	const skmsg = bare.find(e => e.attrs.type === 'skmsg');

	let message: proto.IMessage | undefined;
	let ownCopy: proto.IMessage | undefined;
	let lastIdentity;
	for (const { jid, enc } of targets) {
		const identity = emu.identityForJid(jid, device);
		if (!identity) continue;
		try {
			const m = await identity.decryptFrom(device.bundle, enc.attrs.type as 'pkmsg' | 'msg', enc.content as Uint8Array);
			if (m.senderKeyDistributionMessage?.axolotlSenderKeyDistributionMessage) {
				await identity.repo.processSenderKeyDistributionMessage({ authorJid: device.bundle.address, item: m.senderKeyDistributionMessage });
				lastIdentity = identity;
			}
			if (m.deviceSentMessage?.message) ownCopy = m.deviceSentMessage.message;
			else message ??= m;
		} catch (err) {
			emu.log('decrypt from device failed', jid, err);
		}
	}
	if (skmsg && lastIdentity) {
		try {
			const plain = await lastIdentity.repo.decryptGroupMessage({ group: to, authorJid: device.bundle.address, msg: skmsg.content as Uint8Array });
			const b = Buffer.from(plain);
			message = proto.Message.decode(b.subarray(0, b.length - (b[b.length - 1] ?? 0)));
		} catch (err) {
			emu.log('group decrypt failed', err);
		}
	}
	const content = message ?? ownCopy;
	const rec: SentRecord = {
		id,
		to,
		type: node.attrs.type ?? '',
		category: node.attrs.category,
		message: content ? (proto.Message.toObject(proto.Message.create(content), { longs: Number, bytes: String, defaults: false }) as Record<string, unknown>) : undefined,
		at: Date.now()
	};
	const pdo = content?.protocolMessage?.peerDataOperationRequestMessage;
	if (node.attrs.category === 'peer') {
		if (pdo?.historySyncOnDemandRequest) void answerOnDemandHistory(emu, device, id, pdo.historySyncOnDemandRequest);
		session.send({ tag: 'receipt', attrs: { id, from: to, type: 'peer_msg', t: now() } });
	} else {
		device.sent.push(rec);
		emu.emit('device-sent', { ...rec, phone: device.account.phone });
		// the recipient's phone got it: delivery receipt (participant for groups)
		const isGroup = to.endsWith('@g.us');
		const recipient = isGroup ? undefined : to;
		setTimeout(() => {
			session.send({
				tag: 'receipt',
				attrs: recipient ? { id, from: recipient, t: now() } : { id, from: to, participant: firstMember(session, to), t: now() }
			});
		}, emu.receiptDelayMs).unref?.();
	}
}

function firstMember(session: Session, group: string): string {
	const g = session.emu.groups.get(group);
	const p = g?.participants.find(x => x.phone !== session.device?.account.phone);
	return p ? `${session.emu.contact(p.phone).lid}@lid` : `0@${S_WA}`;
}

export function handleDeviceReceipt(session: Session, node: BinaryNode) {
	const device = session.device;
	const type = node.attrs.type ?? 'delivery';
	if (device) {
		// a retry request says the device could not decrypt it: that is no confirmation
		if (type === 'retry') onRetryReceipt(session.emu, device, node);
		else {
			const list = Array.isArray(node.content) ? node.content.find(c => c.tag === 'list') : undefined;
			const items = Array.isArray(list?.content) ? list.content.map(i => i.attrs.id) : [];
			confirm(device, [node.attrs.id, ...items].filter((id): id is string => !!id), type);
		}
	}
	const attrs: Record<string, string> = { class: 'receipt', id: node.attrs.id ?? '', from: node.attrs.to ?? S_WA };
	if (node.attrs.type) attrs.type = node.attrs.type;
	if (node.attrs.participant) attrs.participant = node.attrs.participant;
	session.send({ tag: 'ack', attrs });
	session.emu.emit('device-receipt', { phone: device?.account.phone, id: node.attrs.id, type, to: node.attrs.to });
}
