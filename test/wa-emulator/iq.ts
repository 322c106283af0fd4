// Answers to the client's queries. Baileys waits for most of them (prekey count/upload, passive,
// digest, props, blocklist, privacy, ping, app state, usync, w:g2), so every iq gets an answer;
// unknown ones get an empty result rather than silence.
import { type BinaryNode, getBinaryNodeChild, getBinaryNodeChildBuffer, getBinaryNodeChildren, jidDecode } from 'baileys';
import { answerGroupIq } from './groups.ts';
import { S_WA } from './ids.ts';
import { onLinkCodeFinish, onLinkCodeHello } from './pairing.ts';
import type { Session } from './session.ts';

const children = (n: BinaryNode | undefined) => (Array.isArray(n?.content) ? (n.content as BinaryNode[]) : []);

export function result(node: BinaryNode, content?: BinaryNode[]): BinaryNode {
	return { tag: 'iq', attrs: { from: node.attrs.to || S_WA, type: 'result', id: node.attrs.id! }, content };
}

export function answerIq(session: Session, node: BinaryNode) {
	const xmlns = node.attrs.xmlns;
	const first = children(node)[0];
	const send = (content?: BinaryNode[]) => session.send(result(node, content));
	switch (xmlns) {
		case 'encrypt':
			return answerEncrypt(session, node, first, send);
		case 'md':
			if (first?.tag === 'link_code_companion_reg') {
				if (first.attrs.stage === 'companion_hello') return onLinkCodeHello(session, node, first);
				if (first.attrs.stage === 'companion_finish') return onLinkCodeFinish(session, node, first);
			}
			if (first?.tag === 'remove-companion-device') {
				send();
				session.emu.removeDevice(session.device);
				return;
			}
			return send();
		case 'abt':
			return send([{ tag: 'props', attrs: { protocol: '1', hash: 'emu' }, content: [] }]);
		case 'blocklist':
			return send([{ tag: 'list', attrs: {}, content: [] }]);
		case 'privacy':
			if (first?.tag === 'privacy')
				return send([
					{
						tag: 'privacy',
						attrs: {},
						content: ['readreceipts', 'last', 'online', 'profile', 'status', 'groupadd'].map(name => ({
							tag: 'category',
							attrs: { name, value: name === 'readreceipts' ? 'all' : 'contacts' }
						}))
					}
				]);
			return send();
		case 'w:sync:app:state':
			return answerAppState(node, first, send);
		case 'usync':
			return send([answerUsync(session, first)]);
		case 'w:g2':
			return answerGroupIq(session, node, first);
		case 'w:m':
			return send([
				{
					tag: 'media_conn',
					attrs: { auth: 'emu', ttl: '3600', auth_ttl: '3600', max_buckets: '1' },
					content: [{ tag: 'host', attrs: { hostname: session.emu.mediaHostName } }]
				}
			]);
		default:
			// passive, w:p (ping), w:stats, dirty bits, status, profile pictures, tos ...
			return send();
	}
}

function answerEncrypt(session: Session, node: BinaryNode, first: BinaryNode | undefined, send: (c?: BinaryNode[]) => void) {
	const device = session.device;
	if (first?.tag === 'count') return send([{ tag: 'count', attrs: { value: String(device?.bundle.preKeys.length ?? 0) } }]);
	if (first?.tag === 'digest') return send([{ tag: 'digest', attrs: {} }]);
	if (first?.tag === 'registration' && device) {
		// prekey upload: <registration/><type/><identity/><list><key><id/><value/></key>…</list><skey/>
		const list = getBinaryNodeChild(node, 'list');
		for (const k of getBinaryNodeChildren(list, 'key')) {
			const id = Buffer.from(getBinaryNodeChildBuffer(k, 'id')!);
			device.bundle.preKeys.push({ id: (id[0]! << 16) | (id[1]! << 8) | id[2]!, pub: Buffer.from(getBinaryNodeChildBuffer(k, 'value')!) });
		}
		const skey = getBinaryNodeChild(node, 'skey');
		if (skey) {
			const id = Buffer.from(getBinaryNodeChildBuffer(skey, 'id')!);
			device.bundle.signedPreKey = {
				id: (id[0]! << 16) | (id[1]! << 8) | id[2]!,
				pub: Buffer.from(getBinaryNodeChildBuffer(skey, 'value')!),
				sig: Buffer.from(getBinaryNodeChildBuffer(skey, 'signature')!)
			};
		}
		send();
		session.emu.onPreKeysUploaded(device);
		return;
	}
	if (first?.tag === 'key') {
		const users: BinaryNode[] = [];
		for (const u of getBinaryNodeChildren(first, 'user')) {
			const identity = session.emu.identityForJid(u.attrs.jid ?? '', session.device);
			if (identity) users.push(identity.bundleNode(u.attrs.jid!));
		}
		return send([{ tag: 'list', attrs: {}, content: users }]);
	}
	return send();
}

function answerAppState(node: BinaryNode, first: BinaryNode | undefined, send: (c?: BinaryNode[]) => void) {
	// every requested collection answered with "no patches, nothing more", or Baileys keeps asking
	const cols = getBinaryNodeChildren(first, 'collection').map(c => ({
		tag: 'collection',
		attrs: { name: c.attrs.name!, version: c.attrs.version ?? '0' }
	}));
	void node;
	send([{ tag: 'sync', attrs: {}, content: cols }]);
}

function answerUsync(session: Session, usync: BinaryNode | undefined): BinaryNode {
	const q = getBinaryNodeChild(usync, 'query');
	const protocols = children(q).map(p => p.tag);
	const list = getBinaryNodeChild(usync, 'list');
	const emu = session.emu;
	const out: BinaryNode[] = [];
	for (const u of getBinaryNodeChildren(list, 'user')) {
		let jid = u.attrs.jid;
		const contactNode = getBinaryNodeChild(u, 'contact');
		if (!jid && contactNode?.content) {
			jid = `${Buffer.from(contactNode.content as Uint8Array).toString().replace(/\D/g, '')}@${S_WA}`;
		}
		if (!jid) continue;
		const person = emu.personForJid(jid);
		const content: BinaryNode[] = [];
		for (const p of protocols) {
			if (p === 'devices') {
				const ids = person?.deviceIds ?? [0];
				content.push({
					tag: 'devices',
					attrs: {},
					content: [
						{
							tag: 'device-list',
							attrs: {},
							content: ids.map((id): BinaryNode => ({ tag: 'device', attrs: id ? { id: String(id), 'key-index': String(id) } : { id: '0' } }))
						}
					]
				});
			} else if (p === 'lid') {
				if (person && jidDecode(jid)?.server === S_WA) content.push({ tag: 'lid', attrs: { val: `${person.lid}@lid` } });
			} else if (p === 'contact') {
				content.push({ tag: 'contact', attrs: { type: person ? 'in' : 'out' } });
			} else if (p === 'status') {
				content.push({ tag: 'status', attrs: { t: '0' }, content: Buffer.from('Hey there! I am using WhatsApp.') });
			} else if (p === 'disappearing_mode') {
				content.push({ tag: 'disappearing_mode', attrs: { duration: '0', t: '0' } });
			}
		}
		out.push({ tag: 'user', attrs: { jid }, content });
	}
	return {
		tag: 'usync',
		attrs: { sid: usync?.attrs.sid ?? '', index: '0', last: 'true', mode: usync?.attrs.mode ?? 'query', context: usync?.attrs.context ?? 'interactive' },
		content: [
			{ tag: 'result', attrs: {}, content: protocols.map(p => ({ tag: p, attrs: {} })) },
			{ tag: 'list', attrs: {}, content: out }
		]
	};
}
