// Groups: state, answers to w:g2 queries (groupFetchAllParticipating, groupMetadata) and
// <notification type="w:gp2"> for subject and participant changes. Participants are listed by LID
// with phone_number, as WhatsApp does for LID-addressed groups.
import { createHash } from 'node:crypto';
import type { BinaryNode } from 'baileys';
import type { Emulator } from './emulator.ts';
import { digits, lidJid, pnJid } from './ids.ts';
import { result } from './iq.ts';
import type { Session } from './session.ts';

export type Participant = { phone: string; admin?: 'admin' | 'superadmin' };
export type Group = {
	id: string;
	subject: string;
	subjectTime: number;
	subjectOwner: string;
	creator: string;
	creation: number;
	participants: Participant[];
	description?: string;
};

const now = () => Math.floor(Date.now() / 1000);

export class GroupStore {
	private readonly groups = new Map<string, Group>();
	private n = 0;
	constructor(private readonly emu: Emulator) {}

	get(id: string) {
		return this.groups.get(id.includes('@') ? id : `${id}@g.us`);
	}
	list() {
		return [...this.groups.values()];
	}

	create(spec: { subject: string; creator: string; participants: string[]; id?: string; description?: string }): Group {
		const creator = digits(spec.creator);
		const id =
			spec.id ??
			`120363${BigInt('0x' + createHash('sha256').update(`${this.emu.seed}:group:${this.n++}`).digest('hex').slice(0, 14)).toString().slice(0, 12).padStart(12, '0')}@g.us`;
		const members = [creator, ...spec.participants.map(digits).filter(p => p !== creator)];
		const g: Group = {
			id,
			subject: spec.subject,
			subjectTime: now(),
			subjectOwner: creator,
			creator,
			creation: now(),
			participants: members.map(phone => ({ phone, admin: phone === creator ? 'superadmin' : undefined })),
			description: spec.description
		};
		this.groups.set(id, g);
		for (const p of members) this.emu.contact(p);
		return g;
	}

	/** rename; tells every member account with a notification */
	setSubject(id: string, subject: string, by: string) {
		const g = this.must(id);
		g.subject = subject;
		g.subjectTime = now();
		g.subjectOwner = digits(by);
		this.notify(g, by, { tag: 'subject', attrs: { subject, s_t: String(g.subjectTime), s_o: lidJid(this.emu.contact(by).lid), s_o_pn: pnJid(digits(by)) } });
	}

	addParticipants(id: string, phones: string[], by: string) {
		const g = this.must(id);
		const added = phones.map(digits).filter(p => !g.participants.some(x => x.phone === p));
		g.participants.push(...added.map(phone => ({ phone })));
		// the added accounts get the notification too
		this.notify(g, by, { tag: 'add', attrs: {}, content: added.map(p => this.participantNode({ phone: p })) });
	}

	removeParticipants(id: string, phones: string[], by: string) {
		const g = this.must(id);
		const removed = phones.map(digits);
		const before = [...g.participants];
		g.participants = g.participants.filter(x => !removed.includes(x.phone));
		this.notify(g, by, { tag: 'remove', attrs: {}, content: removed.map(p => this.participantNode({ phone: p })) }, before);
	}

	private must(id: string) {
		const g = this.get(id);
		if (!g) throw new Error(`no group ${id}`);
		return g;
	}

	participantNode(p: Participant): BinaryNode {
		const lid = this.emu.contact(p.phone).lid;
		const attrs: Record<string, string> = { jid: lidJid(lid), phone_number: pnJid(p.phone) };
		if (p.admin) attrs.type = p.admin;
		return { tag: 'participant', attrs };
	}

	groupNode(g: Group): BinaryNode {
		const content: BinaryNode[] = g.participants.map(p => this.participantNode(p));
		if (g.description)
			content.push({ tag: 'description', attrs: { id: 'emu', t: String(g.creation) }, content: [{ tag: 'body', attrs: {}, content: Buffer.from(g.description) }] });
		return {
			tag: 'group',
			attrs: {
				id: g.id.split('@')[0]!,
				subject: g.subject,
				s_t: String(g.subjectTime),
				s_o: lidJid(this.emu.contact(g.subjectOwner).lid),
				s_o_pn: pnJid(g.subjectOwner),
				creation: String(g.creation),
				creator: lidJid(this.emu.contact(g.creator).lid),
				creator_pn: pnJid(g.creator),
				addressing_mode: 'lid',
				size: String(g.participants.length)
			},
			content
		};
	}

	private notify(g: Group, by: string, child: BinaryNode, members = g.participants) {
		const actor = this.emu.contact(by);
		for (const m of members) {
			const account = this.emu.accounts.get(m.phone);
			if (!account) continue;
			const id = this.emu.ids.next('');
			const node: BinaryNode = {
				tag: 'notification',
				attrs: {
					from: g.id,
					type: 'w:gp2',
					id,
					t: String(now()),
					participant: lidJid(actor.lid),
					participant_pn: pnJid(actor.phone),
					addressing_mode: 'lid',
					notify: actor.pushName
				},
				content: [child]
			};
			this.emu.deliver(account, { id, kind: 'notification', build: async () => ({ ...node, attrs: { ...node.attrs } }) });
		}
	}
}

export function answerGroupIq(session: Session, node: BinaryNode, first: BinaryNode | undefined) {
	const emu = session.emu;
	const me = session.device?.account.phone;
	if (first?.tag === 'participating') {
		const mine = emu.groups.list().filter(g => g.participants.some(p => p.phone === me));
		return session.send(result(node, [{ tag: 'groups', attrs: {}, content: mine.map(g => emu.groups.groupNode(g)) }]));
	}
	if (first?.tag === 'query') {
		const g = emu.groups.get(node.attrs.to ?? '');
		if (!g) {
			return session.send({
				tag: 'iq',
				attrs: { from: node.attrs.to ?? '', type: 'error', id: node.attrs.id! },
				content: [{ tag: 'error', attrs: { code: '404', text: 'item-not-found' } }]
			});
		}
		return session.send(result(node, [emu.groups.groupNode(g)]));
	}
	if (first?.tag === 'subject' && me) {
		const subject = first.content ? Buffer.from(first.content as Uint8Array).toString() : '';
		session.send(result(node));
		emu.groups.setSubject(node.attrs.to ?? '', subject, me);
		return;
	}
	return session.send(result(node));
}
