// Minimal WebSocket server on raw TCP/TLS sockets. We write the HTTP 101 answer ourselves so tests
// control its exact bytes (header case, extra headers such as Sec-WebSocket-Extensions), which is
// what older Bun `ws` shims were reported to choke on with WhatsApp's real server.
import { createHash } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import zlib from 'node:zlib';

export type UpgradeVariant = {
	/** how header names are spelled in the 101 answer */
	headerCase?: 'canonical' | 'lower' | 'upper';
	/** extra raw header lines ("Name: value") appended to the 101 answer */
	extraHeaders?: string[];
	/** status line reason phrase ("Switching Protocols" by default) */
	reason?: string;
};

export interface WsConnection {
	readonly remote: string;
	readonly path: string;
	readonly headers: Record<string, string>;
	send(data: Uint8Array): void;
	/** send a close frame and end the socket */
	close(code?: number): void;
	/** drop TCP without a close frame */
	destroy(): void;
	onMessage: (data: Buffer) => void;
	onClose: () => void;
	readonly open: boolean;
}

export type WsServerOptions = {
	port: number;
	host?: string;
	tls?: { key: string; cert: string };
	upgradeVariant: () => UpgradeVariant;
	/** return false to refuse the upgrade with 503 (used for "refuse reconnects" faults) */
	accept: () => boolean;
	onConnection: (conn: WsConnection) => void;
};

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

function spell(name: string, c: UpgradeVariant['headerCase']) {
	if (c === 'lower') return name.toLowerCase();
	if (c === 'upper') return name.toUpperCase();
	return name;
}

export async function startWsServer(opts: WsServerOptions): Promise<{ port: number; close(): Promise<void> }> {
	const sockets = new Set<net.Socket>();
	const handler = (sock: net.Socket): void => {
		sockets.add(sock);
		sock.setNoDelay(true);
		sock.on('close', () => sockets.delete(sock));
		sock.on('error', () => {});
		let head = Buffer.alloc(0);
		const onHead = (chunk: Buffer | string) => {
			head = Buffer.concat([head, Buffer.from(chunk)]);
			const end = head.indexOf('\r\n\r\n');
			if (end < 0) {
				if (head.length > 16384) sock.destroy();
				return;
			}
			sock.off('data', onHead);
			const lines = head.subarray(0, end).toString('latin1').split('\r\n');
			const rest = head.subarray(end + 4);
			const [, path = '/'] = (lines[0] ?? '').split(' ');
			const headers: Record<string, string> = {};
			for (const l of lines.slice(1)) {
				const i = l.indexOf(':');
				if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
			}
			const key = headers['sec-websocket-key'];
			if (!key || (headers.upgrade ?? '').toLowerCase() !== 'websocket') {
				sock.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
				return;
			}
			if (!opts.accept()) {
				sock.end('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
				return;
			}
			const v = opts.upgradeVariant();
			const accept = createHash('sha1').update(key + GUID).digest('base64');
			const answer = [
				`HTTP/1.1 101 ${v.reason ?? 'Switching Protocols'}`,
				`${spell('Upgrade', v.headerCase)}: websocket`,
				`${spell('Connection', v.headerCase)}: Upgrade`,
				`${spell('Sec-WebSocket-Accept', v.headerCase)}: ${accept}`,
				...(v.extraHeaders ?? [])
			];
			sock.write(answer.join('\r\n') + '\r\n\r\n');
			const ext = (v.extraHeaders ?? []).find(h => /^sec-websocket-extensions:\s*permessage-deflate/i.test(h));
			const deflate = ext ? (/client_no_context_takeover/i.test(ext) ? 'per-message' : 'takeover') : undefined;
			const conn = makeConnection(sock, path, headers, deflate);
			opts.onConnection(conn);
			if (rest.length) conn.feed(rest);
			sock.on('data', d => conn.feed(Buffer.from(d)));
		};
		sock.on('data', onHead);
	};
	const server = opts.tls
		? tls.createServer({ key: opts.tls.key, cert: opts.tls.cert }, handler)
		: net.createServer(handler);
	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen(opts.port, opts.host ?? '127.0.0.1', () => resolve());
	});
	const addr = server.address();
	return {
		port: typeof addr === 'object' && addr ? addr.port : opts.port,
		close: () =>
			new Promise<void>(resolve => {
				for (const s of sockets) s.destroy();
				server.close(() => resolve());
			})
	};
}

function frame(opcode: number, payload: Uint8Array): Buffer {
	const len = payload.length;
	let header: Buffer;
	if (len < 126) {
		header = Buffer.from([0x80 | opcode, len]);
	} else if (len < 65536) {
		header = Buffer.alloc(4);
		header[0] = 0x80 | opcode;
		header[1] = 126;
		header.writeUInt16BE(len, 2);
	} else {
		header = Buffer.alloc(10);
		header[0] = 0x80 | opcode;
		header[1] = 127;
		header.writeBigUInt64BE(BigInt(len), 2);
	}
	return Buffer.concat([header, payload]);
}

/** permessage-deflate (RFC 7692) receiver with context takeover: one raw inflater per connection,
 * each compressed message gets the 00 00 ff ff tail back and is flushed in order. We never
 * compress what we send (allowed: compression is per message). */
function makeInflater(mode: 'takeover' | 'per-message') {
	const inflater = zlib.createInflateRaw();
	let chain: Promise<unknown> = Promise.resolve();
	return (data: Buffer, done: (out: Buffer) => void) => {
		if (mode === 'per-message') {
			// the client resets its compressor per message (and may end it with a final block)
			chain = chain.then(() => done(data.length ? zlib.inflateRawSync(Buffer.concat([data, Buffer.from([0, 0, 0xff, 0xff])]), { finishFlush: zlib.constants.Z_SYNC_FLUSH }) : data));
			return;
		}
		chain = chain.then(
			() =>
				new Promise<void>(resolve => {
					const parts: Buffer[] = [];
					const onData = (d: Buffer) => parts.push(d);
					inflater.on('data', onData);
					inflater.write(Buffer.concat([data, Buffer.from([0, 0, 0xff, 0xff])]));
					inflater.flush(zlib.constants.Z_SYNC_FLUSH, () => {
						inflater.off('data', onData);
						done(Buffer.concat(parts));
						resolve();
					});
				})
		);
	};
}

function makeConnection(sock: net.Socket, path: string, headers: Record<string, string>, deflate?: 'takeover' | 'per-message') {
	const inflate = deflate ? makeInflater(deflate) : undefined;
	let compressed = false;
	let buf: Buffer = Buffer.alloc(0);
	let fragments: Buffer[] = [];
	let open = true;
	const conn = {
		remote: `${sock.remoteAddress}:${sock.remotePort}`,
		path,
		headers,
		get open() {
			return open && !sock.destroyed;
		},
		onMessage: (_: Buffer) => {},
		onClose: () => {},
		send(data: Uint8Array) {
			if (conn.open) sock.write(frame(0x2, data));
		},
		close(code = 1000) {
			if (!conn.open) return;
			const p = Buffer.alloc(2);
			p.writeUInt16BE(code);
			sock.write(frame(0x8, p));
			open = false;
			sock.end();
			setTimeout(() => sock.destroy(), 200).unref();
		},
		destroy() {
			open = false;
			sock.destroy();
		},
		feed(chunk: Buffer) {
			buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
			for (;;) {
				if (buf.length < 2) return;
				const b0 = buf[0]!;
				const b1 = buf[1]!;
				let len = b1 & 0x7f;
				let off = 2;
				if (len === 126) {
					if (buf.length < 4) return;
					len = buf.readUInt16BE(2);
					off = 4;
				} else if (len === 127) {
					if (buf.length < 10) return;
					len = Number(buf.readBigUInt64BE(2));
					off = 10;
				}
				const masked = (b1 & 0x80) !== 0;
				const total = off + (masked ? 4 : 0) + len;
				if (buf.length < total) return;
				let payload: Buffer = Buffer.from(buf.subarray(off + (masked ? 4 : 0), total));
				if (masked) {
					const mask = buf.subarray(off, off + 4);
					for (let i = 0; i < payload.length; i++) payload[i]! ^= mask[i & 3]!;
				}
				buf = buf.subarray(total);
				const opcode = b0 & 0x0f;
				const fin = (b0 & 0x80) !== 0;
				if (opcode === 0x8) {
					if (open) {
						open = false;
						sock.end(frame(0x8, payload.subarray(0, 2)));
					}
					return;
				}
				if (opcode === 0x9) {
					sock.write(frame(0xa, payload));
					continue;
				}
				if (opcode === 0xa) continue;
				if (opcode !== 0) compressed = (b0 & 0x40) !== 0;
				fragments.push(payload);
				if (!fin) continue;
				payload = fragments.length === 1 ? payload : Buffer.concat(fragments);
				fragments = [];
				if (compressed && inflate) inflate(payload, out => conn.onMessage(out));
				else if (inflate) inflate(Buffer.alloc(0), () => conn.onMessage(payload));
				else conn.onMessage(payload);
			}
		}
	};
	sock.on('close', () => {
		open = false;
		conn.onClose();
	});
	return conn;
}
