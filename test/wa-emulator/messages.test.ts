import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { downloadMediaMessage, jidNormalizedUser, proto, type WAMessage } from 'baileys';
import { pairByQr, type TestClient } from './client.ts';
import type { DeviceHandle } from './device.ts';
import { type StartedEmulator, startEmulator } from './emulator.ts';

const ME = '15550001000';
const ALICE = '15551230001';
const BOB = '15551230002';
let emu: StartedEmulator;
let client: TestClient;
let dev: DeviceHandle;

beforeAll(async () => {
	emu = await startEmulator({ seed: 'messages', history: { enabled: false } });
	({ client } = await pairByQr(emu, ME, { pushName: 'Me', history: false }));
	dev = emu.device(ME);
	await client.waitFor('connection.update', u => u.receivedPendingNotifications === true);
});
afterAll(async () => {
	client.end();
	await emu.close();
});

const byId = (id: string) => client.waitForMessage(m => m.key.id === id);

describe('to the device', () => {
	test('1:1 text from a contact addressed by LID carries the phone as remoteJidAlt', async () => {
		const s = await dev.sendText({ from: ALICE, text: 'hi by lid', pushName: 'Alice' });
		const m = await byId(s.id);
		const alice = dev.contact(ALICE);
		expect(m.key).toMatchObject({ remoteJid: alice.lidJid, remoteJidAlt: alice.pnJid, fromMe: false, addressingMode: 'lid' });
		expect(m.message?.conversation).toBe('hi by lid');
		expect(m.pushName).toBe('Alice');
		const upsert = client.events('messages.upsert').find(u => u.messages.some(x => x.key.id === s.id));
		expect(upsert?.type).toBe('notify');
	});

	test('1:1 text addressed by phone carries the LID as remoteJidAlt', async () => {
		const s = await dev.sendText({ from: BOB, text: 'hi by phone', via: 'pn', pushName: 'Bob' });
		const m = await byId(s.id);
		const bob = dev.contact(BOB);
		expect(m.key).toMatchObject({ remoteJid: bob.pnJid, remoteJidAlt: bob.lidJid, addressingMode: 'pn' });
		expect(m.message?.conversation).toBe('hi by phone');
		// Baileys learned the mapping from the envelope
		expect(jidNormalizedUser((await client.sock.signalRepository.lidMapping.getPNForLID(bob.lidJid)) ?? '')).toBe(bob.pnJid);
	});

	test('push names become contacts.update', async () => {
		await dev.sendText({ from: '15551230009', text: 'new here', pushName: 'Zoe' });
		const u = await client.waitFor('contacts.update', list => list.some(c => c.notify === 'Zoe'));
		expect(u.find(c => c.notify === 'Zoe')?.id).toBe(dev.contact('15551230009').lidJid);
	});

	test('extended text quoting an earlier message', async () => {
		const first = await dev.sendText({ from: ALICE, text: 'question?' });
		const s = await dev.sendText({ from: ALICE, text: 'answer', quote: { id: first.id, participant: dev.contact(ALICE).lidJid, text: 'question?' } });
		const m = await byId(s.id);
		expect(m.message?.extendedTextMessage?.text).toBe('answer');
		expect(m.message?.extendedTextMessage?.contextInfo?.stanzaId).toBe(first.id);
		expect(m.message?.extendedTextMessage?.contextInfo?.quotedMessage?.conversation).toBe('question?');
	});

	for (const kind of ['image', 'video', 'audio', 'document', 'sticker'] as const) {
		test(`${kind} with real encrypted media that downloadMediaMessage decrypts`, async () => {
			const s = await dev.sendMedia({ from: ALICE, kind, caption: kind === 'image' ? 'look' : undefined, fileName: 'a.pdf' });
			const m = await byId(s.id);
			const content = m.message?.[`${kind}Message`] as { directPath?: string; caption?: string } | undefined;
			expect(content?.directPath).toStartWith('/v/');
			if (kind === 'image') expect(content?.caption).toBe('look');
			const bytes = await downloadMediaMessage(m as WAMessage, 'buffer', {});
			expect(Buffer.compare(bytes, s.bytes)).toBe(0);
		});
	}

	test('location and contact card', async () => {
		const l = await dev.sendLocation({ from: ALICE, lat: 52.52, lng: 13.405, name: 'Berlin' });
		const c = await dev.sendContact({ from: ALICE, displayName: 'Carl', contactPhone: '15559990000' });
		const lm = await byId(l.id);
		const cm = await byId(c.id);
		expect(lm.message?.locationMessage).toMatchObject({ degreesLatitude: 52.52, degreesLongitude: 13.405, name: 'Berlin' });
		expect(cm.message?.contactMessage?.displayName).toBe('Carl');
		expect(cm.message?.contactMessage?.vcard).toContain('waid=15559990000');
	});

	test('reaction, edit and revoke of an earlier message', async () => {
		const orig = await dev.sendText({ from: ALICE, text: 'original' });
		await byId(orig.id);
		const r = await dev.sendReaction({ from: ALICE, target: orig.key, emoji: '👍' });
		const rm = await byId(r.id);
		expect(rm.message?.reactionMessage?.text).toBe('👍');
		expect(rm.message?.reactionMessage?.key?.id).toBe(orig.id);
		const reacted = await client.waitFor('messages.reaction', list => list.some(x => x.key.id === orig.id));
		expect(reacted[0]?.reaction.text).toBe('👍');
		await dev.sendEdit({ from: ALICE, target: orig.key, text: 'edited' });
		const upd = await client.waitFor('messages.update', list => list.some(u => u.key.id === orig.id && !!u.update.message));
		const edited = upd.find(u => u.key.id === orig.id)?.update.message;
		expect(JSON.stringify(edited)).toContain('edited');
		await dev.sendRevoke({ from: ALICE, target: orig.key });
		const del = await client.waitFor('messages.update', list =>
			list.some(u => u.key.id === orig.id && u.update.messageStubType === proto.WebMessageInfo.StubType.REVOKE)
		);
		expect(del.length).toBeGreaterThan(0);
	});

	test('poll', async () => {
		const p = await dev.sendPoll({ from: ALICE, name: 'Lunch?', options: ['Pizza', 'Sushi'] });
		const m = await byId(p.id);
		expect(m.message?.pollCreationMessage?.name).toBe('Lunch?');
		expect(m.message?.pollCreationMessage?.options?.map(o => o.optionName)).toEqual(['Pizza', 'Sushi']);
	});

	test('sent from the phone (deviceSentMessage) arrives fromMe in the contact chat', async () => {
		const s = await dev.sendText({ fromMe: true, to: ALICE, text: 'sent on my phone' });
		const m = await byId(s.id);
		expect(m.key.fromMe).toBe(true);
		expect(m.key.remoteJid).toBe(dev.contact(ALICE).lidJid);
		expect(m.message?.conversation).toBe('sent on my phone');
		const byPhone = await dev.sendText({ fromMe: true, to: BOB, via: 'pn', text: 'pn addressed' });
		const m2 = await byId(byPhone.id);
		expect(m2.key).toMatchObject({ fromMe: true, remoteJid: dev.contact(BOB).pnJid });
	});

	test('the same seed gives the same message ids', async () => {
		const other = await startEmulator({ seed: 'messages', history: { enabled: false } });
		const a = other.ids.next();
		const b = emu.ids.next();
		await other.close();
		expect(a).toMatch(/^3EB0[0-9A-F]{16}$/);
		// both generators are positional; a fresh one restarts the sequence
		const fresh = await startEmulator({ seed: 'messages' });
		expect(fresh.ids.next()).toBe(a);
		await fresh.close();
		expect(b).not.toBe(a);
	});
});

describe('from the device', () => {
	test('sendMessage to a phone jid resolves, the emulator decrypts it and sends a delivery receipt', async () => {
		const bob = dev.contact(BOB);
		const sent = await client.sock.sendMessage(bob.pnJid, { text: 'hello from baileys' });
		expect(sent?.key.fromMe).toBe(true);
		const rec = await dev.waitForSent(s => s.id === sent!.key.id);
		expect(rec.message).toMatchObject({ extendedTextMessage: { text: 'hello from baileys' } });
		const own = await client.waitForMessage(m => m.key.id === sent!.key.id);
		expect(own.key.fromMe).toBe(true);
		// the delivery receipt shows as messages.update, or is merged into the buffered own upsert
		const delivered = () =>
			client.events('messages.update').flat().some(u => u.key.id === sent!.key.id && (u.update.status ?? 0) >= proto.WebMessageInfo.Status.DELIVERY_ACK) ||
			client.messages().some(m => m.key.id === sent!.key.id && (m.status ?? 0) >= proto.WebMessageInfo.Status.DELIVERY_ACK);
		for (let i = 0; i < 100 && !delivered(); i++) await Bun.sleep(20);
		expect(delivered()).toBe(true);
	});

	test('sendMessage to a LID jid (existing session) is decrypted too', async () => {
		const alice = dev.contact(ALICE);
		const sent = await client.sock.sendMessage(alice.lidJid, { text: 'reply to alice' });
		const rec = await dev.waitForSent(s => s.id === sent!.key.id);
		expect(rec.to).toBe(alice.lidJid);
		expect(rec.message).toMatchObject({ extendedTextMessage: { text: 'reply to alice' } });
	});
});

describe('media from the device', () => {
	test('sendMessage with an image uploads through media_conn to the media host; the emulator decrypts it', async () => {
		const bytes = Buffer.from('not really a jpeg, but bytes all the same');
		const sent = await client.sock.sendMessage(dev.contact(BOB).pnJid, { image: bytes, caption: 'from device', mimetype: 'image/jpeg' });
		const rec = await dev.waitForSent(s => s.id === sent!.key.id);
		const img = (rec.message as { imageMessage?: { directPath: string; mediaKey: string; caption: string } }).imageMessage!;
		expect(img.caption).toBe('from device');
		const plain = await emu.media.decrypt(img.directPath, Buffer.from(img.mediaKey, 'base64'), 'image');
		expect(plain.equals(bytes)).toBe(true);
	});
});
