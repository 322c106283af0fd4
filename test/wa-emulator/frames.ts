// Framing of the WhatsApp Web stream inside WebSocket messages: an intro on the client's first
// frame ("WA" 6 3, optionally preceded by an "ED" routing header), then 3-byte big-endian lengths.
import { NOISE_WA_HEADER } from 'baileys';

export class FrameReader {
	private buf = Buffer.alloc(0);
	private introDone = false;

	/** feed bytes, get complete frames out */
	push(data: Uint8Array): Buffer[] {
		this.buf = this.buf.length ? Buffer.concat([this.buf, data]) : Buffer.from(data);
		if (!this.introDone) {
			if (this.buf.length < 4) return [];
			if (this.buf[0] === 0x45 && this.buf[1] === 0x44) {
				// "ED" 0 1 <3-byte len> <routing info> then the WA header
				if (this.buf.length < 7) return [];
				const len = (this.buf[4]! << 16) | this.buf.readUInt16BE(5);
				if (this.buf.length < 7 + len + 4) return [];
				this.buf = this.buf.subarray(7 + len);
			}
			if (!this.buf.subarray(0, 4).equals(NOISE_WA_HEADER)) throw new Error('bad intro header');
			this.buf = this.buf.subarray(4);
			this.introDone = true;
		}
		const out: Buffer[] = [];
		while (this.buf.length >= 3) {
			const size = (this.buf[0]! << 16) | (this.buf[1]! << 8) | this.buf[2]!;
			if (this.buf.length < size + 3) break;
			out.push(this.buf.subarray(3, size + 3));
			this.buf = this.buf.subarray(size + 3);
		}
		return out;
	}
}

export function encodeFrame(data: Uint8Array): Buffer {
	const out = Buffer.allocUnsafe(3 + data.length);
	out[0] = (data.length >>> 16) & 0xff;
	out[1] = (data.length >>> 8) & 0xff;
	out[2] = data.length & 0xff;
	out.set(data, 3);
	return out;
}
