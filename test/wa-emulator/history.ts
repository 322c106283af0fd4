// History sync from the emulated phone: after a device's first login, an INITIAL_BOOTSTRAP chunk
// inline (initialHistBootstrapInlinePayload), RECENT chunks as encrypted blobs on the media host,
// and a PUSH_NAME chunk; all generated deterministically from the seed. Also answers on-demand
// requests (fetchMessageHistory → peer data operation) with ON_DEMAND chunks.
import { createHash } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import { type BinaryNode, proto } from 'baileys';
import type { Account, Emulator, LinkedDevice } from './emulator.ts';
import { lidFor, lidJid, pnJid, rng } from './ids.ts';

export type HistoryOptions = {
	enabled: boolean;
	/** total generated messages across all chats (0 … 100000+) */
	messages: number;
	/** number of 1:1 chats */
	chats: number;
	/** number of RECENT blob chunks the messages are split into (besides the inline bootstrap) */
	chunks: number;
	messagesPerChat?: number;
};

/** fixed clock for generated history: same seed → same timestamps */
const BASE_TS = 1_760_000_000;
const NAMES = ['Ana', 'Bruno', 'Chen', 'Dalia', 'Emeka', 'Farah', 'Goran', 'Hana', 'Ines', 'Jamal', 'Kofi', 'Lena'];
const WORDS = ['hello', 'meeting', 'tomorrow', 'invoice', 'thanks', 'photo', 'lunch', 'ok', 'see you', 'call me', 'done', 'great'];

export type HistoryChat = { phone: string; lid: string; name: string; jid: string };

export function historyChats(seed: string, account: Account, n: number): HistoryChat[] {
	const r = rng(`${seed}:chats:${account.phone}`);
	return Array.from({ length: n }, (_, i) => {
		const phone = `1555${String(Math.floor(r() * 1e7)).padStart(7, '0')}`;
		const lid = lidFor(phone);
		return { phone, lid, name: `${NAMES[i % NAMES.length]} ${i + 1}`, jid: lidJid(lid) };
	});
}

function msgId(seed: string, chat: string, n: number | string) {
	return '3EB0' + createHash('sha256').update(`${seed}:hist:${chat}:${n}`).digest('hex').slice(0, 16).toUpperCase();
}

/** message i of the whole history (oldest first) */
export function historyMessage(seed: string, chats: HistoryChat[], i: number, total: number): proto.IWebMessageInfo {
	const chat = chats[i % chats.length]!;
	const r = rng(`${seed}:msg:${i}`);
	const fromMe = r() < 0.3;
	const text = `History ${i + 1}/${total}: ${WORDS[Math.floor(r() * WORDS.length)]} ${WORDS[Math.floor(r() * WORDS.length)]}`;
	return {
		key: { remoteJid: chat.jid, fromMe, id: msgId(seed, chat.jid, i) },
		message: { conversation: text },
		messageTimestamp: BASE_TS - (total - i) * 60,
		pushName: fromMe ? undefined : chat.name,
		status: fromMe ? proto.WebMessageInfo.Status.READ : proto.WebMessageInfo.Status.DELIVERY_ACK
	};
}

function conversations(chats: HistoryChat[], msgs: proto.IWebMessageInfo[], withMeta: boolean): proto.IConversation[] {
	const byChat = new Map<string, proto.IHistorySyncMsg[]>();
	for (const m of msgs) {
		const list = byChat.get(m.key!.remoteJid!) ?? [];
		list.push({ message: m });
		byChat.set(m.key!.remoteJid!, list);
	}
	return chats
		.filter(c => withMeta || byChat.has(c.jid))
		.map(c => ({
			id: c.jid,
			pnJid: pnJid(c.phone),
			lidJid: c.jid,
			name: c.name,
			displayName: c.name,
			// newest first, as WhatsApp sends them
			messages: (byChat.get(c.jid) ?? []).reverse(),
			unreadCount: 0
		}));
}

async function notification(emu: Emulator, sync: proto.IHistorySync, inline: boolean, extra: Partial<proto.Message.IHistorySyncNotification>) {
	const bytes = deflateSync(proto.HistorySync.encode(sync).finish());
	const base: proto.Message.IHistorySyncNotification = { syncType: sync.syncType, chunkOrder: sync.chunkOrder, progress: sync.progress, ...extra };
	if (inline) return { ...base, initialHistBootstrapInlinePayload: bytes };
	const up = await emu.media.encrypt(bytes, 'md-msg-hist');
	return {
		...base,
		directPath: up.directPath,
		mediaKey: up.mediaKey,
		fileSha256: up.fileSha256,
		fileEncSha256: up.fileEncSha256,
		fileLength: up.fileLength
	};
}

/** deliver a protocol message from the account's phone to one device (peer category) */
function fromPhone(emu: Emulator, device: LinkedDevice, hist: proto.Message.IHistorySyncNotification) {
	const id = emu.ids.next();
	const a = device.account;
	const message: proto.IMessage = {
		protocolMessage: { type: proto.Message.ProtocolMessage.Type.HISTORY_SYNC_NOTIFICATION, historySyncNotification: hist }
	};
	emu.push(
		device,
		{
			id,
			kind: 'history',
			// one kind of copy only: Baileys sends no retry receipt for peer messages it cannot decrypt
			build: async (d): Promise<BinaryNode> => {
				const enc = await a.primary.encryptTo(d.bundle, message);
				return {
					tag: 'message',
					attrs: { id, from: pnJid(a.phone), t: String(Math.floor(Date.now() / 1000)), type: 'text', category: 'peer' },
					content: [{ tag: 'enc', attrs: { v: '2', type: enc.type }, content: enc.ciphertext }]
				};
			}
		},
		false
	);
}

export async function sendInitialHistory(emu: Emulator, device: LinkedDevice) {
	const a = device.account;
	const h = a.history;
	if (!h.enabled) return;
	const chats = historyChats(emu.seed, a, Math.max(1, h.chats));
	for (const c of chats) emu.contact(c.phone, c.name);
	const total = h.messages;
	const all = Array.from({ length: total }, (_, i) => historyMessage(emu.seed, chats, i, total));
	const mappings = chats.map(c => ({ pnJid: pnJid(c.phone), lidJid: c.jid }));
	// bootstrap: chat list + mappings + the newest slice of messages, inline
	const chunks = Math.max(1, h.chunks);
	const per = Math.ceil(total / (chunks + 1)) || 0;
	const newest = all.slice(total - per);
	const older = all.slice(0, total - per);
	const notes: proto.Message.IHistorySyncNotification[] = [];
	notes.push(
		await notification(
			emu,
			{
				syncType: proto.HistorySync.HistorySyncType.INITIAL_BOOTSTRAP,
				conversations: conversations(chats, newest, true),
				phoneNumberToLidMappings: mappings,
				chunkOrder: 0,
				progress: 0
			},
			true,
			{}
		)
	);
	// RECENT chunks from newer to older, downloadable blobs
	for (let k = 0; k < chunks; k++) {
		const end = older.length - k * per;
		const slice = older.slice(Math.max(0, end - per), Math.max(0, end));
		notes.push(
			await notification(
				emu,
				{
					syncType: proto.HistorySync.HistorySyncType.RECENT,
					conversations: conversations(chats, slice, false),
					phoneNumberToLidMappings: k === 0 ? mappings : [],
					chunkOrder: k + 1,
					progress: Math.round(((k + 1) / chunks) * 100)
				},
				false,
				{}
			)
		);
	}
	notes.push(
		await notification(
			emu,
			{
				syncType: proto.HistorySync.HistorySyncType.PUSH_NAME,
				pushnames: chats.map(c => ({ id: c.jid, pushname: c.name })),
				chunkOrder: chunks + 1
			},
			true,
			{}
		)
	);
	for (const n of notes) fromPhone(emu, device, n);
	emu.emit('history-sent', { phone: a.phone, deviceId: device.id, chunks: notes.length, messages: total });
}

export async function answerOnDemandHistory(emu: Emulator, device: LinkedDevice, requestId: string, req: proto.Message.PeerDataOperationRequestMessage.IHistorySyncOnDemandRequest) {
	const chat = req.chatJid ?? '';
	const count = Math.min(Number(req.onDemandMsgCount ?? 50), 500);
	const oldestSec = Math.floor(Number(req.oldestMsgTimestampMs ?? Date.now()) / 1000);
	const msgs: proto.IWebMessageInfo[] = [];
	for (let i = count; i >= 1; i--) {
		const r = rng(`${emu.seed}:od:${chat}:${req.oldestMsgId}:${i}`);
		const fromMe = r() < 0.3;
		msgs.push({
			key: { remoteJid: chat, fromMe, id: msgId(emu.seed, chat, `od:${req.oldestMsgId}:${i}`) },
			message: { conversation: `Older message ${i} before ${req.oldestMsgId}` },
			messageTimestamp: oldestSec - i * 60
		});
	}
	const sync: proto.IHistorySync = {
		syncType: proto.HistorySync.HistorySyncType.ON_DEMAND,
		conversations: [{ id: chat, messages: msgs.reverse().map(m => ({ message: m })) }],
		chunkOrder: 0,
		progress: 100
	};
	fromPhone(emu, device, await notification(emu, sync, false, { peerDataRequestSessionId: requestId }));
	emu.emit('history-on-demand', { phone: device.account.phone, chat, count });
}
