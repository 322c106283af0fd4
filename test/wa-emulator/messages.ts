// Message content builders (proto.IMessage) for every kind the emulator can send.
import { createHash } from 'node:crypto';
import { BufferJSON, type MediaType, normalizeMessageContent, proto } from 'baileys';
import type { Emulator } from './emulator.ts';

export type MessageKeyLike = { remoteJid: string; fromMe: boolean; id: string; participant?: string };
export type Quote = { id: string; participant?: string; text?: string };

export const text = (body: string): proto.IMessage => ({ conversation: body });

export function extendedText(body: string, quote?: Quote): proto.IMessage {
	return {
		extendedTextMessage: {
			text: body,
			contextInfo: quote
				? { stanzaId: quote.id, participant: quote.participant, quotedMessage: { conversation: quote.text ?? '' } }
				: undefined
		}
	};
}

export type MediaKind = 'image' | 'video' | 'audio' | 'document' | 'sticker';
export type MediaSpec = {
	bytes?: Uint8Array;
	mimetype?: string;
	caption?: string;
	fileName?: string;
	ptt?: boolean;
	seconds?: number;
};

const DEFAULT_MIME: Record<MediaKind, string> = {
	image: 'image/jpeg',
	video: 'video/mp4',
	audio: 'audio/ogg; codecs=opus',
	document: 'application/pdf',
	sticker: 'image/webp'
};

/** deterministic filler bytes when a test does not care about the media content */
export function fillerBytes(seed: string, n: number): Buffer {
	const out = Buffer.alloc(n);
	let block = createHash('sha256').update(seed).digest();
	for (let i = 0; i < n; i += 32) {
		block.copy(out, i, 0, Math.min(32, n - i));
		block = createHash('sha256').update(block).digest();
	}
	return out;
}

export async function media(emu: Emulator, kind: MediaKind, spec: MediaSpec): Promise<{ message: proto.IMessage; bytes: Buffer }> {
	const bytes = Buffer.from(spec.bytes ?? fillerBytes(`${emu.seed}:${kind}:${emu.media.count}`, 1500));
	const up = await emu.media.encrypt(bytes, kind as MediaType);
	const common = {
		url: up.url,
		directPath: up.directPath,
		mediaKey: up.mediaKey,
		fileSha256: up.fileSha256,
		fileEncSha256: up.fileEncSha256,
		fileLength: up.fileLength,
		mediaKeyTimestamp: up.mediaKeyTimestamp,
		mimetype: spec.mimetype ?? DEFAULT_MIME[kind]
	};
	let message: proto.IMessage;
	switch (kind) {
		case 'image':
			message = { imageMessage: { ...common, caption: spec.caption, width: 64, height: 64 } };
			break;
		case 'video':
			message = { videoMessage: { ...common, caption: spec.caption, seconds: spec.seconds ?? 3, width: 64, height: 64 } };
			break;
		case 'audio':
			message = { audioMessage: { ...common, ptt: spec.ptt ?? false, seconds: spec.seconds ?? 2 } };
			break;
		case 'document':
			message = { documentMessage: { ...common, fileName: spec.fileName ?? 'file.pdf', title: spec.fileName ?? 'file.pdf', caption: spec.caption } };
			break;
		case 'sticker':
			message = { stickerMessage: { ...common, isAnimated: false, width: 64, height: 64 } };
			break;
	}
	return { message, bytes };
}

export const location = (lat: number, lng: number, name?: string, address?: string): proto.IMessage => ({
	locationMessage: { degreesLatitude: lat, degreesLongitude: lng, name, address }
});

export function contactCard(displayName: string, phone: string): proto.IMessage {
	const vcard = `BEGIN:VCARD\nVERSION:3.0\nFN:${displayName}\nTEL;type=CELL;waid=${phone}:+${phone}\nEND:VCARD`;
	return { contactMessage: { displayName, vcard } };
}

export const reaction = (key: MessageKeyLike, emoji: string): proto.IMessage => ({
	reactionMessage: { key, text: emoji, senderTimestampMs: Date.now() }
});

export const revoke = (key: MessageKeyLike): proto.IMessage => ({
	protocolMessage: { key, type: proto.Message.ProtocolMessage.Type.REVOKE }
});

export const edit = (key: MessageKeyLike, body: string): proto.IMessage => ({
	protocolMessage: {
		key,
		type: proto.Message.ProtocolMessage.Type.MESSAGE_EDIT,
		editedMessage: { conversation: body },
		timestampMs: Date.now()
	}
});

export function poll(emu: Emulator, name: string, options: string[], selectable = 1): proto.IMessage {
	return {
		pollCreationMessage: { name, options: options.map(optionName => ({ optionName })), selectableOptionsCount: selectable },
		messageContextInfo: { messageSecret: createHash('sha256').update(`${emu.seed}:poll:${name}`).digest() }
	};
}

export type LongLike = number | string | { low: number; high: number; unsigned?: boolean };
/** seconds from a timestamp as Baileys logs it: a number, a decimal string or a Long {low, high} */
export const seconds = (t: LongLike) => (typeof t === 'object' ? t.high * 2 ** 32 + (t.low >>> 0) : Number(t));

/** any content from proto JSON as Baileys logs it: bytes as base64 strings or {type: 'Buffer'}
 * objects (BufferJSON; Buffers a library caller passes survive the round trip), int64 fields as
 * numbers, strings or Longs (fromObject takes all three), enums by name or number */
export function fromJson(json: object): proto.IMessage {
	return proto.Message.fromObject(JSON.parse(JSON.stringify(json, BufferJSON.replacer), BufferJSON.reviver));
}

/** the stanza `type` attribute WhatsApp uses for a content (looking inside ephemeral/view-once wrappers) */
export function stanzaType(message: proto.IMessage): string {
	const m = normalizeMessageContent(message) ?? message;
	if (m.reactionMessage) return 'reaction';
	if (m.pollCreationMessage || m.pollCreationMessageV3) return 'poll';
	if (m.imageMessage || m.videoMessage || m.audioMessage || m.documentMessage || m.stickerMessage) return 'media';
	return 'text';
}
