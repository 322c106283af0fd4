// Admin HTTP API so black-box tests of the compiled daemon can drive the emulator from outside
// the process. JSON in, JSON out; errors are {error} with 4xx. Documented in README.md.
import type { Envelope } from './device.ts';
import type { Fault, StartedEmulator } from './emulator.ts';
import { digits, lidJid, pnJid } from './ids.ts';
import type { MediaKind } from './messages.ts';
import { ROOT_PUBLIC_KEY_HEX } from './noise.ts';

type Json = Record<string, unknown>;
const MEDIA: MediaKind[] = ['image', 'video', 'audio', 'document', 'sticker'];

class HttpError extends Error {
	constructor(
		readonly status: number,
		message: string
	) {
		super(message);
	}
}

function accountView(emu: StartedEmulator, phone: string) {
	const a = emu.accounts.get(phone);
	if (!a) throw new HttpError(404, `no account ${phone}`);
	return {
		phone: a.phone,
		lid: a.lid,
		pnJid: pnJid(a.phone),
		lidJid: lidJid(a.lid),
		pushName: a.pushName,
		history: a.history,
		devices: [...a.devices.values()].map(d => ({
			id: d.id,
			jid: d.jid,
			lidJid: lidJid(a.lid, d.id),
			connected: !!d.session && !d.session.closed,
			online: d.ready,
			logins: d.logins,
			queued: d.queue.length,
			sent: d.sent.length
		}))
	};
}

async function sendMessage(emu: StartedEmulator, phone: string, b: Json) {
	const dev = emu.device(phone);
	const env: Envelope = {
		from: b.from as string | undefined,
		pushName: b.pushName as string | undefined,
		via: b.via as Envelope['via'],
		group: b.group as string | undefined,
		broadcast: b.broadcast as string | undefined,
		fromMe: b.fromMe === true,
		to: b.to as string | undefined,
		id: b.id as string | undefined,
		t: b.t as number | undefined,
		undecryptable: b.undecryptable as Envelope['undecryptable']
	};
	if (env.undecryptable && !['retry', 'withhold'].includes(env.undecryptable)) throw new HttpError(400, 'undecryptable is "retry" or "withhold"');
	if (env.broadcast !== undefined && (!/^\d+@broadcast$/.test(env.broadcast) || env.fromMe || env.group)) throw new HttpError(400, 'broadcast is a list id like 1715150681@broadcast, for a message from a contact');
	const kind = String(b.kind ?? 'text');
	if (kind === 'raw') {
		if (!b.message || typeof b.message !== 'object') throw new HttpError(400, 'raw needs message (proto JSON)');
		const raw = { ...env, fromMe: b.fromMe as boolean | undefined, message: b.message as object, key: b.key as never, messageTimestamp: b.messageTimestamp as never };
		return dev.sendRaw(raw).catch(e => {
			throw new HttpError(400, (e as Error).message);
		});
	}
	if (!env.fromMe && !env.from) throw new HttpError(400, 'from (contact phone) or fromMe is required');
	const target = b.target as { remoteJid: string; fromMe: boolean; id: string; participant?: string } | undefined;
	if (['reaction', 'revoke', 'edit'].includes(kind) && !target?.id) throw new HttpError(400, `${kind} needs target {remoteJid, fromMe, id}`);
	if (MEDIA.includes(kind as MediaKind)) {
		const r = await dev.sendMedia({
			...env,
			kind: kind as MediaKind,
			bytes: typeof b.dataBase64 === 'string' ? Buffer.from(b.dataBase64, 'base64') : undefined,
			caption: b.caption as string | undefined,
			fileName: b.fileName as string | undefined,
			mimetype: b.mimetype as string | undefined,
			ptt: b.ptt as boolean | undefined
		});
		return { id: r.id, key: r.key, t: r.t, sha256: new Bun.CryptoHasher('sha256').update(r.bytes).digest('hex'), size: r.bytes.length };
	}
	switch (kind) {
		case 'text':
			return dev.sendText({ ...env, text: String(b.text ?? ''), quote: b.quote as never });
		case 'location':
			return dev.sendLocation({ ...env, lat: Number(b.lat), lng: Number(b.lng), name: b.name as string | undefined, address: b.address as string | undefined });
		case 'contact':
			return dev.sendContact({ ...env, displayName: String(b.displayName ?? ''), contactPhone: String(b.contactPhone ?? '') });
		case 'reaction':
			return dev.sendReaction({ ...env, target: target!, emoji: String(b.emoji ?? '') });
		case 'revoke':
			return dev.sendRevoke({ ...env, target: target! });
		case 'edit':
			return dev.sendEdit({ ...env, target: target!, text: String(b.text ?? '') });
		case 'poll':
			return dev.sendPoll({ ...env, name: String(b.name ?? ''), options: (b.options as string[]) ?? [], selectable: b.selectable as number | undefined });
		default:
			throw new HttpError(400, `unknown kind ${kind}`);
	}
}

export function startAdmin(emu: StartedEmulator, port: number, hostname: string) {
	const route = async (req: Request): Promise<unknown> => {
		const u = new URL(req.url);
		const p = u.pathname.split('/').filter(Boolean);
		const m = req.method;
		const body = async (): Promise<Json> => (m === 'GET' ? {} : ((await req.json().catch(() => ({}))) as Json));
		if (m === 'GET' && p[0] === 'health')
			return {
				ok: true,
				url: emu.url,
				wssUrl: emu.wssUrl,
				mediaUrl: emu.mediaUrl,
				mediaHttpsUrl: emu.mediaHttpsUrl,
				rootPublicKeyHex: ROOT_PUBLIC_KEY_HEX,
				seed: emu.seed,
				accounts: emu.accounts.size,
				connections: emu.sessions.size
			};
		if (m === 'GET' && p[0] === 'ca') {
			if (!emu.ca) throw new HttpError(404, 'tls is off');
			return new Response(emu.ca, { headers: { 'content-type': 'application/x-pem-file' } });
		}
		if (p[0] === 'devices') {
			if (p.length === 1) {
				if (m === 'GET') return [...emu.accounts.keys()].map(ph => accountView(emu, ph));
				if (m === 'POST') {
					const b = await body();
					const a = emu.account(digits(String(b.phone ?? '')), b.pushName as string | undefined);
					if (b.history) Object.assign(a.history, b.history);
					return accountView(emu, a.phone);
				}
			}
			const phone = digits(p[1] ?? '');
			if (!phone) throw new HttpError(400, 'phone missing');
			const action = p[2];
			if (!action && m === 'GET') return accountView(emu, phone);
			if (action === 'scan' && m === 'POST') {
				const b = await body();
				try {
					const d = emu.scanQr(String(b.qr ?? ''), { phone, pushName: b.pushName as string | undefined });
					return { deviceId: d.id, jid: d.jid };
				} catch (e) {
					throw new HttpError(409, (e as Error).message);
				}
			}
			if (action === 'pairing-code' && m === 'POST') {
				const b = await body();
				try {
					await emu.pairWithCode(phone, String(b.code ?? ''), b.pushName as string | undefined);
					return { ok: true };
				} catch (e) {
					throw new HttpError(409, (e as Error).message);
				}
			}
			if (action === 'messages' && m === 'POST' && !p[3]) return sendMessage(emu, phone, await body());
			if (action === 'messages' && m === 'POST' && p[4] === 'release') {
				try {
					return { id: p[3], answered: emu.device(phone).releaseRetry(decodeURIComponent(p[3] ?? '')) };
				} catch (e) {
					throw new HttpError(404, (e as Error).message);
				}
			}
			if (action === 'confirmations' && m === 'GET') return emu.device(phone).confirmations();
			if (action === 'receipts' && m === 'POST') {
				const b = (await body()) as { id?: string; from?: string; type?: 'delivery' | 'read' | 'played'; group?: string; via?: 'lid' | 'pn' };
				if (!b.id || !b.from) throw new HttpError(400, 'receipts need id and from (the contact phone)');
				if (b.type && !['delivery', 'read', 'played'].includes(b.type)) throw new HttpError(400, 'type is delivery, read or played');
				return emu.receipt(phone, { id: b.id, from: b.from, type: b.type, group: b.group, via: b.via });
			}
			if (action === 'burst' && m === 'POST') {
				const b = await body();
				// answer at once; the burst runs in the background
				void emu.device(phone).sendBurst({ count: Number(b.count ?? 100), contacts: b.contacts as number | undefined, rate: b.rate as number | undefined, via: b.via as never, prefix: b.prefix as string | undefined });
				return { ok: true, count: Number(b.count ?? 100) };
			}
			if (action === 'sent' && m === 'GET') return emu.device(phone).sent();
			if (action === 'history' && m === 'PUT') return emu.device(phone).setHistory((await body()) as never);
			if (action === 'logout' && m === 'POST') {
				emu.fault(phone, { type: 'close', code: 401 });
				return { ok: true };
			}
			if (action === 'contacts' && m === 'GET') return emu.device(phone).contact(p[3] ?? '');
		}
		if (p[0] === 'groups') {
			if (p.length === 1 && m === 'GET') return emu.groups.list();
			if (p.length === 1 && m === 'POST') {
				const b = await body();
				return emu.groups.create({
					subject: String(b.subject ?? ''),
					creator: String(b.creator ?? ''),
					participants: (b.participants as string[]) ?? [],
					id: b.id as string | undefined,
					description: b.description as string | undefined
				});
			}
			const id = decodeURIComponent(p[1] ?? '');
			const g = emu.groups.get(id);
			if (!g) throw new HttpError(404, `no group ${id}`);
			if (!p[2] && m === 'GET') return g;
			const b = await body();
			if (p[2] === 'subject' && m === 'POST') {
				emu.groups.setSubject(g.id, String(b.subject ?? ''), String(b.by ?? g.creator));
				return emu.groups.get(g.id);
			}
			if (p[2] === 'participants' && m === 'POST') {
				const by = String(b.by ?? g.creator);
				if (Array.isArray(b.add) && b.add.length) emu.groups.addParticipants(g.id, b.add as string[], by);
				if (Array.isArray(b.remove) && b.remove.length) emu.groups.removeParticipants(g.id, b.remove as string[], by);
				return emu.groups.get(g.id);
			}
		}
		if (p[0] === 'faults' && m === 'POST') {
			const b = await body();
			const phone = b.phone ? digits(String(b.phone)) : undefined;
			emu.fault(phone, b as unknown as Fault);
			return { ok: true };
		}
		if (p[0] === 'settings' && m === 'PUT') {
			const b = await body();
			if (b.upgrade) emu.upgrade = b.upgrade as never;
			if (typeof b.receiptDelayMs === 'number') emu.receiptDelayMs = b.receiptDelayMs;
			if (typeof b.delayMs === 'number') emu.delayMs = b.delayMs;
			if (typeof b.offlinePaceMs === 'number') emu.offlinePaceMs = b.offlinePaceMs;
			if (b.history) Object.assign(emu.historyDefaults, b.history);
			return { upgrade: emu.upgrade, receiptDelayMs: emu.receiptDelayMs, delayMs: emu.delayMs, offlinePaceMs: emu.offlinePaceMs, history: emu.historyDefaults };
		}
		throw new HttpError(404, `no route ${m} ${u.pathname}`);
	};
	const server = Bun.serve({
		hostname,
		port,
		fetch: async req => {
			try {
				const out = await route(req);
				return out instanceof Response ? out : Response.json(out ?? { ok: true });
			} catch (e) {
				const status = e instanceof HttpError ? e.status : 500;
				return Response.json({ error: (e as Error).message }, { status });
			}
		}
	});
	return { url: `http://${hostname}:${server.port}`, stop: () => server.stop(true) };
}
