// What tests do with an account: send it messages from contacts, groups, or "from the phone",
// and inspect what its linked device sent. Envelopes follow what WhatsApp's server sends:
// LID-addressed stanzas carry the phone as sender_pn (Baileys' key.remoteJidAlt), phone-addressed
// ones carry sender_lid.
import { type BinaryNode, normalizeMessageContent, type proto } from 'baileys';
import { confirmations } from './confirmations.ts';
import type { Account, Contact, Copy, Emulator, LinkedDevice, Outgoing, SentRecord } from './emulator.ts';
import { digits, lidJid, pnJid } from './ids.ts';
import * as M from './messages.ts';
import { releaseRetry } from './retry.ts';
import { type Identity, straySenderKeyMessage, strayWhisper } from './signal.ts';

export type Via = 'lid' | 'pn';
/** a message from a contact (1:1, or in `group`), or with fromMe: from the account's own phone to `to` */
export type Envelope = {
	from?: string;
	pushName?: string;
	via?: Via;
	group?: string;
	/** a broadcast list (`<id>@broadcast`) the contact sent this through: WhatsApp addresses it
	 * from the list with the contact as participant, encrypted 1:1 like a direct message */
	broadcast?: string;
	fromMe?: boolean;
	/** recipient of a fromMe message (phone number) */
	to?: string;
	id?: string;
	t?: number;
	/** the first copy the device gets cannot be decrypted (it answers with a retry receipt); the
	 * emulator re-sends it decryptable at once ('retry') or on releaseRetry ('withhold') */
	undecryptable?: 'retry' | 'withhold';
};
export type Sent = { id: string; key: M.MessageKeyLike; t: number };
/** any content (proto JSON as Baileys logs it), optionally with the key and timestamp it had */
export type RawSend = Envelope & { message: object; key?: Partial<M.MessageKeyLike>; messageTimestamp?: M.LongLike };

const now = () => Math.floor(Date.now() / 1000);

function encNode(type: string, content: Uint8Array, retryCount?: number): BinaryNode {
	return { tag: 'enc', attrs: retryCount ? { v: '2', type, count: String(retryCount) } : { v: '2', type }, content };
}

/** a 1:1 ciphertext from `identity` to the device, as `copy` asks */
async function pairwise(identity: Identity, d: LinkedDevice, message: proto.IMessage, copy: Copy): Promise<BinaryNode> {
	if (copy.type === 'undecryptable') return encNode('msg', await strayWhisper(d.bundle, message));
	const enc = copy.type === 'retry' ? await identity.encryptFresh(d.bundle, message, copy.keys) : await identity.encryptTo(d.bundle, message);
	return encNode(enc.type, enc.ciphertext, copy.type === 'retry' ? copy.count : undefined);
}

/** build a stanza lazily per device: encryption must happen in delivery order */
export function envelope(emu: Emulator, account: Account, env: Envelope, message: proto.IMessage): { out: Outgoing['build']; sent: Sent } {
	const id = env.id ?? emu.ids.next();
	const t = env.t ?? now();
	const via = env.via ?? 'lid';
	const type = M.stanzaType(message);
	const base: Record<string, string> = { id, t: String(t), type };
	if (env.fromMe) {
		const me = via === 'lid' ? lidJid(account.lid) : pnJid(account.phone);
		if (env.group) {
			const attrs = { ...base, from: env.group, participant: me, addressing_mode: via, ...(via === 'lid' ? { participant_pn: pnJid(account.phone) } : { participant_lid: lidJid(account.lid) }) };
			return {
				sent: { id, t, key: { remoteJid: env.group, fromMe: true, id, participant: me } },
				out: (d, copy) => groupStanza(account.primary, d, env.group!, attrs, message, copy)
			};
		}
		const c = emu.contact(env.to ?? '');
		const recipient = via === 'lid' ? lidJid(c.lid) : pnJid(c.phone);
		const attrs = {
			...base,
			from: me,
			recipient,
			addressing_mode: via,
			...(via === 'lid' ? { peer_recipient_pn: pnJid(c.phone) } : { peer_recipient_lid: lidJid(c.lid) })
		};
		const dsm: proto.IMessage = { deviceSentMessage: { destinationJid: recipient, message } };
		return {
			sent: { id, t, key: { remoteJid: recipient, fromMe: true, id } },
			out: async (d, copy) => ({ tag: 'message', attrs, content: [await pairwise(account.primary, d, dsm, copy)] })
		};
	}
	const c: Contact = emu.contact(env.from ?? '', env.pushName);
	const sender = via === 'lid' ? lidJid(c.lid) : pnJid(c.phone);
	const alt: Record<string, string> = via === 'lid' ? { sender_pn: pnJid(c.phone) } : { sender_lid: lidJid(c.lid) };
	// A group or a broadcast list names the list as `from` and the contact as participant;
	// a group's copy is a sender-key message, a broadcast list's a 1:1 one.
	const list = env.group ?? env.broadcast;
	if (list) {
		const attrs = {
			...base,
			from: list,
			participant: sender,
			notify: c.pushName,
			addressing_mode: via,
			...(via === 'lid' ? { participant_pn: pnJid(c.phone) } : { participant_lid: lidJid(c.lid) })
		};
		return {
			sent: { id, t, key: { remoteJid: list, fromMe: false, id, participant: sender } },
			out: env.group
				? (d, copy) => groupStanza(c.identity, d, list, attrs, message, copy)
				: async (d, copy) => ({ tag: 'message', attrs, content: [await pairwise(c.identity, d, message, copy)] })
		};
	}
	const attrs: Record<string, string> = { ...base, from: sender, notify: c.pushName, addressing_mode: via, ...alt };
	return {
		sent: { id, t, key: { remoteJid: sender, fromMe: false, id } },
		out: async (d, copy) => ({ tag: 'message', attrs, content: [await pairwise(c.identity, d, message, copy)] })
	};
}

/** group message: sender-key ciphertext, preceded the first time by a 1:1 sender key distribution.
 * A retry answer is one pkmsg carrying both, as a sender's retry resend does. */
async function groupStanza(identity: Identity, d: LinkedDevice, group: string, attrs: Record<string, string>, message: proto.IMessage, copy: Copy): Promise<BinaryNode> {
	if (copy.type === 'undecryptable') return { tag: 'message', attrs, content: [encNode('skmsg', await straySenderKeyMessage(group, message))] };
	// the device keys sender keys by (group, participant jid as addressed)
	const k = `${group}|${attrs.participant}|${d.bundle.address}`;
	if (copy.type === 'retry') {
		const skdm = await identity.repo.getSenderKeyDistributionMessage({ group, meId: identity.jid });
		const full = { ...message, senderKeyDistributionMessage: { groupId: group, axolotlSenderKeyDistributionMessage: skdm } };
		identity.skdmSent.add(k);
		return { tag: 'message', attrs, content: [await pairwise(identity, d, full, copy)] };
	}
	const { ciphertext, skdm } = await identity.encryptGroup(group, message);
	const content: BinaryNode[] = [];
	if (!identity.skdmSent.has(k)) {
		const enc = await identity.encryptTo(d.bundle, {
			senderKeyDistributionMessage: { groupId: group, axolotlSenderKeyDistributionMessage: skdm }
		});
		content.push(encNode(enc.type, enc.ciphertext));
		identity.skdmSent.add(k);
	}
	content.push(encNode('skmsg', ciphertext));
	return { tag: 'message', attrs, content };
}

/** the envelope a raw send implies: key.id as the id; the group, sender (or, fromMe, recipient)
 * and addressing from key.remoteJid/participant unless given; t from messageTimestamp */
function rawEnvelope(emu: Emulator, o: RawSend): Envelope {
	const key = o.key ?? {};
	const group = o.group ?? (key.remoteJid?.endsWith('@g.us') ? key.remoteJid : undefined);
	const broadcast = o.broadcast ?? (key.remoteJid?.endsWith('@broadcast') ? key.remoteJid : undefined);
	const fromMe = o.fromMe ?? key.fromMe ?? false;
	const addressed = group || broadcast ? key.participant : key.remoteJid;
	// the contact the key names (unknown LIDs name nobody)
	const phone = addressed && !(fromMe && group) ? emu.personForJid(addressed)?.phone : undefined;
	return {
		...o,
		id: o.id ?? key.id,
		group,
		broadcast,
		fromMe,
		from: o.from ?? (fromMe ? undefined : phone),
		to: o.to ?? (fromMe && !group ? phone : undefined),
		via: o.via ?? (addressed?.endsWith('@s.whatsapp.net') ? 'pn' : 'lid'),
		t: o.t ?? (o.messageTimestamp === undefined ? undefined : M.seconds(o.messageTimestamp))
	};
}

export type DeviceHandle = ReturnType<typeof makeDeviceHandle>;

export function makeDeviceHandle(emu: Emulator, account: Account) {
	const send = async (env: Envelope, message: proto.IMessage): Promise<Sent> => {
		const { out, sent } = envelope(emu, account, env, message);
		const kind = normalizeMessageContent(message)?.protocolMessage ? 'protocol' : 'message';
		emu.deliver(account, { id: sent.id, kind, build: out, undecryptable: env.undecryptable });
		return sent;
	};
	const allSent = (): SentRecord[] => [...account.devices.values()].flatMap(d => d.sent);
	return {
		phone: account.phone,
		lid: account.lid,
		jid: pnJid(account.phone),
		lidJid: lidJid(account.lid),
		account,
		/** linked devices (after pairing) */
		get devices() {
			return [...account.devices.values()];
		},
		get connected() {
			return [...account.devices.values()].some(d => d.ready);
		},
		/** contact info, so tests know the LID the emulator uses for a phone */
		contact: (phone: string, pushName?: string) => {
			const c = emu.contact(phone, pushName);
			return { phone: c.phone, lid: c.lid, pnJid: pnJid(c.phone), lidJid: lidJid(c.lid), pushName: c.pushName };
		},
		send,
		sendText: (env: Envelope & { text: string; quote?: M.Quote }) =>
			send(env, env.quote ? M.extendedText(env.text, env.quote) : M.text(env.text)),
		sendMedia: async (env: Envelope & { kind: M.MediaKind } & M.MediaSpec) => {
			const { message, bytes } = await M.media(emu, env.kind, env);
			return { ...(await send(env, message)), bytes };
		},
		sendImage: (env: Envelope & M.MediaSpec) => M.media(emu, 'image', env).then(async r => ({ ...(await send(env, r.message)), bytes: r.bytes })),
		sendLocation: (env: Envelope & { lat: number; lng: number; name?: string; address?: string }) =>
			send(env, M.location(env.lat, env.lng, env.name, env.address)),
		sendContact: (env: Envelope & { displayName: string; contactPhone: string }) =>
			send(env, M.contactCard(env.displayName, digits(env.contactPhone))),
		sendReaction: (env: Envelope & { target: M.MessageKeyLike; emoji: string }) => send(env, M.reaction(env.target, env.emoji)),
		sendRevoke: (env: Envelope & { target: M.MessageKeyLike }) => send(env, M.revoke(env.target)),
		sendEdit: (env: Envelope & { target: M.MessageKeyLike; text: string }) => send(env, M.edit(env.target, env.text)),
		sendPoll: (env: Envelope & { name: string; options: string[]; selectable?: number }) =>
			send(env, M.poll(emu, env.name, env.options, env.selectable)),
		async sendRaw(o: RawSend) {
			const env = rawEnvelope(emu, o);
			if (!env.fromMe && !env.from) throw new Error('raw send needs from, or a key naming a known contact');
			if (env.fromMe && !env.group && !env.to) throw new Error('raw fromMe send needs to, or key.remoteJid');
			return send(env, M.fromJson(o.message));
		},
		/** answer the retry receipts of an `undecryptable: 'withhold'` message (now, or after the next
		 * login for devices offline); returns how many devices got the decryptable copy now */
		releaseRetry: (id: string) => releaseRetry(emu, account, id),
		/** per stanza delivered to the linked devices: confirmed (with which receipts) or not yet */
		confirmations: () => confirmations(account),
		/** many texts from `contacts` contacts, each text "bench <i> <wall-clock ms at send>" so a
		 * receiver can compute latency; `rate` msgs/s paces them (default: all at once) */
		async sendBurst(o: { count: number; contacts?: number; rate?: number; via?: Via; prefix?: string }) {
			const n = Math.max(1, o.contacts ?? 10);
			const contacts = Array.from({ length: n }, (_, i) => `1555990${String(i).padStart(4, '0')}`);
			const wall = () => performance.timeOrigin + performance.now();
			const started = wall();
			for (let i = 0; i < o.count; i++) {
				if (o.rate) {
					const due = started + (i * 1000) / o.rate;
					const wait = due - wall();
					if (wait > 1) await new Promise(r => setTimeout(r, wait));
				}
				await send({ from: contacts[i % n], via: o.via }, M.text(`${o.prefix ?? 'bench'} ${i} ${wall().toFixed(3)}`));
			}
			return { count: o.count, startedAt: started };
		},
		/** everything the account's devices sent (decrypted where the emulator holds the keys) */
		sent: allSent,
		waitForSent(pred: (s: SentRecord) => boolean = () => true, timeoutMs = 5000): Promise<SentRecord> {
			const hit = allSent().find(pred);
			if (hit) return Promise.resolve(hit);
			return new Promise((resolve, reject) => {
				const onSent = (s: SentRecord & { phone: string }) => {
					if (s.phone === account.phone && pred(s)) {
						clearTimeout(timer);
						emu.off('device-sent', onSent);
						resolve(s);
					}
				};
				const timer = setTimeout(() => {
					emu.off('device-sent', onSent);
					reject(new Error('timed out waiting for a message from the device'));
				}, timeoutMs);
				emu.on('device-sent', onSent);
			});
		},
		setHistory: (h: Partial<Account['history']>) => Object.assign(account.history, h)
	};
}
