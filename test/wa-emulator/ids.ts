// Deterministic ids and numbers: the same seed gives the same LIDs, message ids and generated texts.
import { createHash } from 'node:crypto';

export const S_WA = 's.whatsapp.net';
export const pnJid = (phone: string, device = 0) => (device ? `${phone}:${device}@${S_WA}` : `${phone}@${S_WA}`);
export const lidJid = (lid: string, device = 0) => (device ? `${lid}:${device}@lid` : `${lid}@lid`);
export const digits = (s: string) => s.replace(/\D/g, '');

/** A LID for a phone number, stable across runs (WhatsApp's are opaque 14–15 digit numbers). */
export function lidFor(phone: string): string {
	const h = createHash('sha256').update(`lid:${phone}`).digest();
	return String(100000000000000n + (h.readBigUInt64BE(0) % 800000000000000n));
}

/** Small fast seeded PRNG (mulberry32). */
export function rng(seed: number | string): () => number {
	let a = typeof seed === 'number' ? seed >>> 0 : createHash('sha256').update(seed).digest().readUInt32BE(0);
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

/** Message ids look like WhatsApp's (hex, upper case); derived from seed + counter. */
export class IdGen {
	private n = 0;
	constructor(private readonly seed: string) {}
	next(prefix = '3EB0'): string {
		const h = createHash('sha256').update(`${this.seed}:${this.n++}`).digest('hex').toUpperCase();
		return prefix + h.slice(0, 16);
	}
}
