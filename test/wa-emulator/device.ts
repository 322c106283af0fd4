// What tests do with an account: send it messages from contacts, groups, or "from the phone",
// and inspect what its linked device sent. Envelopes follow what WhatsApp's server sends:
// LID-addressed stanzas carry the phone as sender_pn (Baileys' key.remoteJidAlt), phone-addressed
// ones carry sender_lid.
import type { BinaryNode, proto } from 'baileys';
import type { Account, Contact, Emulator, LinkedDevice, SentRecord } from './emulator.ts';
import { digits, lidJid, pnJid } from './ids.ts';
import * as M from './messages.ts';
import type { Identity } from './signal.ts';

export type Via = 'lid' | 'pn';
/** a message from a contact (1:1, or in `group`), or with fromMe: from the account's own phone to `to` */
export type Envelope = {
	from?: string;
	pushName?: string;
	via?: Via;
	group?: string;
	fromMe?: boolean;
	/** recipient of a fromMe message (phone number) */
	to?: string;
	id?: string;
	t?: number;
};
export type Sent = { id: string; key: M.MessageKeyLike; t: number };

const now = () => Math.floor(Date.now() / 1000);

function encNode(type: string, content: Uint8Array): BinaryNode {
	return { tag: 'enc', attrs: { v: '2', type }, content };
}

/** build a stanza lazily per device: encryption must happen in delivery order */
export function envelope(emu: Emulator, account: Account, env: Envelope, message: proto.IMessage): { out: (d: LinkedDevice) => Promise<BinaryNode>; sent: Sent } {
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
				out: d => groupStanza(account.primary, d, env.group!, attrs, message)
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
			out: async d => {
				const enc = await account.primary.encryptTo(d.bundle, dsm);
				return { tag: 'message', attrs, content: [encNode(enc.type, enc.ciphertext)] };
			}
		};
	}
	const c: Contact = emu.contact(env.from ?? '', env.pushName);
	const sender = via === 'lid' ? lidJid(c.lid) : pnJid(c.phone);
	const alt: Record<string, string> = via === 'lid' ? { sender_pn: pnJid(c.phone) } : { sender_lid: lidJid(c.lid) };
	if (env.group) {
		const attrs = {
			...base,
			from: env.group,
			participant: sender,
			notify: c.pushName,
			addressing_mode: via,
			...(via === 'lid' ? { participant_pn: pnJid(c.phone) } : { participant_lid: lidJid(c.lid) })
		};
		return {
			sent: { id, t, key: { remoteJid: env.group, fromMe: false, id, participant: sender } },
			out: d => groupStanza(c.identity, d, env.group!, attrs, message)
		};
	}
	const attrs: Record<string, string> = { ...base, from: sender, notify: c.pushName, addressing_mode: via, ...alt };
	return {
		sent: { id, t, key: { remoteJid: sender, fromMe: false, id } },
		out: async d => {
			const enc = await c.identity.encryptTo(d.bundle, message);
			return { tag: 'message', attrs, content: [encNode(enc.type, enc.ciphertext)] };
		}
	};
}

/** group message: sender-key ciphertext, preceded the first time by a 1:1 sender key distribution */
async function groupStanza(identity: Identity, d: LinkedDevice, group: string, attrs: Record<string, string>, message: proto.IMessage): Promise<BinaryNode> {
	const { ciphertext, skdm } = await identity.encryptGroup(group, message);
	const content: BinaryNode[] = [];
	// the device keys sender keys by (group, participant jid as addressed)
	const k = `${group}|${attrs.participant}|${d.bundle.address}`;
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

export type DeviceHandle = ReturnType<typeof makeDeviceHandle>;

export function makeDeviceHandle(emu: Emulator, account: Account) {
	const send = async (env: Envelope, message: proto.IMessage): Promise<Sent> => {
		const { out, sent } = envelope(emu, account, env, message);
		emu.deliver(account, { id: sent.id, build: out });
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
