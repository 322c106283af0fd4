// One client connection: handshake, then login (returning device) or registration (new device),
// then the stanza loop. Everything protocol-specific is delegated (pairing.ts, iq.ts, inbound.ts).
import { type BinaryNode, decodeBinaryNode, encodeBinaryNode, type proto } from 'baileys';
import type { Emulator, LinkedDevice } from './emulator.ts';
import { encodeFrame, FrameReader } from './frames.ts';
import { handleDeviceMessage, handleDeviceReceipt } from './inbound.ts';
import { answerIq } from './iq.ts';
import { ServerHandshake, type Transport } from './noise.ts';
import { onIqResult, startRegistration } from './pairing.ts';
import type { WsConnection } from './ws-server.ts';

export type Registration = {
	clientStatic: Buffer;
	identityKey: Buffer;
	registrationId: number;
	signedPreKey: { id: number; pub: Buffer; sig: Buffer };
	refs: string[];
};

export class Session {
	private readonly reader = new FrameReader();
	private readonly hs = new ServerHandshake();
	private stage: 'hello' | 'finish' | 'open' = 'hello';
	private transport?: Transport;
	/** stanzas are handled one after another, in arrival order */
	private chain: Promise<unknown> = Promise.resolve();
	device?: LinkedDevice;
	registration?: Registration;
	payload?: proto.ClientPayload;
	/** pair-success we sent and await the signed answer to */
	pendingPair?: { id: string; device: LinkedDevice };
	closed = false;
	private tag = 0;

	constructor(
		readonly emu: Emulator,
		readonly conn: WsConnection
	) {
		conn.onMessage = d => this.onData(d);
		conn.onClose = () => this.onClosed();
	}

	nextId(): string {
		return `emu.${++this.tag}`;
	}

	private onData(data: Buffer) {
		let frames: Buffer[];
		try {
			frames = this.reader.push(data);
		} catch {
			this.conn.destroy();
			return;
		}
		for (const f of frames) {
			try {
				this.onFrame(f);
			} catch (err) {
				this.emu.log('frame error', err);
				this.conn.destroy();
				return;
			}
		}
	}

	private onFrame(frame: Buffer) {
		if (this.stage === 'hello') {
			this.conn.send(encodeFrame(this.hs.hello(frame)));
			this.stage = 'finish';
			return;
		}
		if (this.stage === 'finish') {
			const { transport, clientStatic, payload } = this.hs.finish(frame);
			this.transport = transport;
			this.stage = 'open';
			this.payload = payload;
			this.enqueue(() => this.onClientPayload(payload, clientStatic));
			return;
		}
		// decrypt now (the counter is positional), decode and handle in order
		const plain = this.transport!.decrypt(frame);
		this.enqueue(async () => {
			const node = await decodeBinaryNode(plain);
			await this.onNode(node);
		});
	}

	private enqueue(fn: () => Promise<void> | void) {
		this.chain = this.chain.then(fn).catch(err => this.emu.log('stanza error', err));
	}

	send(node: BinaryNode) {
		if (this.closed || !this.transport || !this.conn.open) return;
		this.conn.send(encodeFrame(this.transport.encrypt(encodeBinaryNode(node))));
	}

	private async onClientPayload(payload: proto.ClientPayload, clientStatic: Buffer) {
		await this.emu.answerDelay();
		if (payload.username) {
			const device = this.emu.findDevice(String(payload.username), payload.device ?? 0);
			if (!device || !device.noiseKey.equals(clientStatic)) {
				this.send({ tag: 'failure', attrs: { reason: '401', location: 'emu' } });
				this.end();
				return;
			}
			this.emu.attach(device, this);
			return;
		}
		if (payload.devicePairingData) {
			startRegistration(this, payload, clientStatic);
			return;
		}
		this.send({ tag: 'failure', attrs: { reason: '400' } });
		this.end();
	}

	private async onNode(node: BinaryNode) {
		switch (node.tag) {
			case 'iq':
				if (node.attrs.type === 'result' || node.attrs.type === 'error') return onIqResult(this, node);
				await this.emu.answerDelay();
				return answerIq(this, node);
			case 'message':
				return handleDeviceMessage(this, node);
			case 'receipt':
				return handleDeviceReceipt(this, node);
			case 'ack':
				return this.emu.onDeviceAck(this, node);
			default:
				// presence, chatstate, ib(unified_session) ... need no answer
				return;
		}
	}

	/** close the stream politely: the client sees the socket end (428 unless a stanza said otherwise) */
	end(delayMs = 20) {
		if (this.closed) return;
		this.closed = true;
		setTimeout(() => this.conn.close(), delayMs).unref?.();
	}

	/** drop TCP without any goodbye */
	drop() {
		this.closed = true;
		this.conn.destroy();
	}

	private onClosed() {
		this.closed = true;
		this.emu.detach(this);
	}
}
