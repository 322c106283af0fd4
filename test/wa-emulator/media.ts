// Media host: blobs encrypted exactly like WhatsApp's CDN serves them (AES-256-CBC with keys from
// HKDF(mediaKey), 10-byte HMAC appended), so Baileys' downloadMediaMessage decrypts them.
// Baileys downloads from `https://<host of url or mmg.whatsapp.net><directPath>` whenever
// directPath is set, so either the client rewrites https://mmg.whatsapp.net to `mediaUrl`
// (mediaLinks "whatsapp", the default) or trusts our certificate (mediaLinks "local").
import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import { getMediaKeys, type MediaType } from 'baileys';
import type { Emulator } from './emulator.ts';
import type { TlsMaterial } from './tls.ts';

export type UploadedMedia = {
	url: string;
	directPath: string;
	mediaKey: Buffer;
	fileSha256: Buffer;
	fileEncSha256: Buffer;
	fileLength: number;
	mediaKeyTimestamp: number;
};

const PATH_PREFIX: Partial<Record<MediaType, string>> = {
	image: '/v/t62.7118-24/',
	sticker: '/v/t62.15575-24/',
	video: '/v/t62.7161-24/',
	audio: '/v/t62.7117-24/',
	document: '/v/t62.7119-24/',
	'md-msg-hist': '/v/t62.36145-24/'
};

export class MediaStore {
	private readonly blobs = new Map<string, Buffer>();
	private n = 0;
	private httpsBase?: string;
	/** while true the CDN answers every download with 503 (a media host outage) */
	unavailable = false;
	constructor(private readonly emu: Emulator) {}

	async encrypt(plain: Uint8Array, type: MediaType): Promise<UploadedMedia> {
		const mediaKey = createHash('sha256').update(`${this.emu.seed}:media:${this.n}`).digest();
		const { cipherKey, iv, macKey } = await getMediaKeys(mediaKey, type);
		const c = createCipheriv('aes-256-cbc', cipherKey, iv);
		const enc = Buffer.concat([c.update(plain), c.final()]);
		const mac = createHmac('sha256', macKey!).update(iv).update(enc).digest().subarray(0, 10);
		const blob = Buffer.concat([enc, mac]);
		const fileEncSha256 = createHash('sha256').update(blob).digest();
		const name = `${String(this.n++).padStart(6, '0')}_${randomBytes(6).toString('hex')}.enc`;
		const directPath = `${PATH_PREFIX[type] ?? '/v/t62.0-24/'}${name}?ccb=11-4&oh=emu&oe=FFFFFFFF`;
		this.blobs.set(directPath.split('?')[0]!, blob);
		const host = this.linkBase();
		return {
			url: `${host}${directPath}`,
			directPath,
			mediaKey,
			fileSha256: createHash('sha256').update(plain).digest(),
			fileEncSha256,
			fileLength: plain.length,
			mediaKeyTimestamp: Math.floor(Date.now() / 1000)
		};
	}

	private linkBase() {
		return this.emu.opts.mediaLinks === 'local' && this.httpsBase ? this.httpsBase : 'https://mmg.whatsapp.net';
	}

	/** decrypt a stored blob (e.g. media the device uploaded) with the message's mediaKey */
	async decrypt(directPath: string, mediaKey: Uint8Array, type: MediaType): Promise<Buffer> {
		const blob = this.blobs.get(directPath.split('?')[0]!);
		if (!blob) throw new Error(`no blob at ${directPath}`);
		const { cipherKey, iv, macKey } = await getMediaKeys(mediaKey, type);
		const enc = blob.subarray(0, blob.length - 10);
		const mac = createHmac('sha256', macKey!).update(iv).update(enc).digest().subarray(0, 10);
		if (!mac.equals(blob.subarray(blob.length - 10))) throw new Error('media mac mismatch');
		const d = createDecipheriv('aes-256-cbc', cipherKey, iv);
		return Buffer.concat([d.update(enc), d.final()]);
	}

	/** store an upload from a device (sendMessage with media); returns the path */
	put(path: string, body: Buffer) {
		this.blobs.set(path, body);
	}

	get count() {
		return this.blobs.size;
	}

	serve(hostname: string, tls?: TlsMaterial) {
		const fetch = async (req: Request) => {
			const u = new URL(req.url);
			if (req.method === 'POST' && u.pathname.startsWith('/mms/')) {
				// a device uploading media (sendMessage with media): keep the encrypted body and
				// answer like the CDN does
				const body = Buffer.from(await req.arrayBuffer());
				const path = `/v/t62.0-24/up_${String(this.n++).padStart(6, '0')}.enc`;
				this.put(path, body);
				return Response.json({ url: `${this.linkBase()}${path}?ccb=11-4`, direct_path: `${path}?ccb=11-4` });
			}
			if (this.unavailable) return new Response('unavailable', { status: 503 });
			const blob = this.blobs.get(u.pathname);
			if (!blob) return new Response('not found', { status: 404 });
			return new Response(new Uint8Array(blob), { headers: { 'content-type': 'application/octet-stream' } });
		};
		const http = Bun.serve({ hostname, port: 0, fetch });
		const https = tls ? Bun.serve({ hostname, port: 0, fetch, tls: { key: tls.key, cert: tls.cert } }) : undefined;
		if (https) this.httpsBase = `https://localhost:${https.port}`;
		return {
			url: `http://${hostname}:${http.port}`,
			httpsUrl: this.httpsBase,
			stop: async () => {
				await http.stop(true);
				await https?.stop(true);
			}
		};
	}
}
