import { afterAll, beforeAll, expect, test } from 'bun:test';
import { proto } from 'baileys';
import { pairByQr, type TestClient } from './client.ts';
import type { DeviceHandle } from './device.ts';
import { type StartedEmulator, startEmulator } from './emulator.ts';
import { fromJson } from './messages.ts';

const ME = '15550009300';
const ALICE = '15551230931';
let emu: StartedEmulator;
let client: TestClient;
let dev: DeviceHandle;
let alice: ReturnType<DeviceHandle['contact']>;

beforeAll(async () => {
	emu = await startEmulator({ seed: 'raw', history: { enabled: false } });
	({ client } = await pairByQr(emu, ME, { history: false }));
	dev = emu.device(ME);
	alice = dev.contact(ALICE, 'Alice');
	await client.waitFor('connection.update', u => u.receivedPendingNotifications === true);
});
afterAll(async () => {
	client.end();
	await emu.close();
});

const asJson = (m: proto.IMessage) => proto.Message.toObject(proto.Message.create(m), { longs: String, enums: String, bytes: String });
/** the upsert carries exactly the content sent (compared as proto JSON; Baileys merges a group's
 * sender key distribution into the first message from a member, that is transport) */
async function expectDelivered(id: string, message: object) {
	const m = await client.waitForMessage(x => x.key.id === id);
	const { senderKeyDistributionMessage: _, ...content } = asJson(m.message!);
	expect(content).toEqual(asJson(fromJson(message)));
	return m;
}

test('buttonsResponseMessage under the key given, from the contact the key names', async () => {
	const message = {
		buttonsResponseMessage: {
			selectedButtonId: 'btn-yes',
			selectedDisplayText: 'Yes',
			type: 'DISPLAY_TEXT',
			contextInfo: { stanzaId: '3EB0QUESTION', participant: alice.lidJid, quotedMessage: { conversation: 'Agree?' } }
		}
	};
	const s = await dev.sendRaw({ message, key: { remoteJid: alice.lidJid, fromMe: false, id: 'RAWBUTTONS0001' }, pushName: 'Alice' });
	expect(s.id).toBe('RAWBUTTONS0001');
	const m = await expectDelivered(s.id, message);
	expect(m.key).toMatchObject({ remoteJid: alice.lidJid, remoteJidAlt: alice.pnJid, fromMe: false });
	expect(m.pushName).toBe('Alice');
	expect(m.message?.buttonsResponseMessage?.selectedButtonId).toBe('btn-yes');
});

test('pollCreationMessageV3 with its secret as base64, timestamp as a string', async () => {
	const message = {
		pollCreationMessageV3: { name: 'Lunch?', options: [{ optionName: 'Pizza' }, { optionName: 'Ramen' }], selectableOptionsCount: 1 },
		messageContextInfo: { messageSecret: Buffer.alloc(32, 7).toString('base64') }
	};
	const s = await dev.sendRaw({ message, key: { remoteJid: alice.pnJid, id: 'RAWPOLLV3000001' }, messageTimestamp: '1760000000' });
	const m = await expectDelivered(s.id, message);
	expect(m.key.remoteJid).toBe(alice.pnJid);
	expect(Number(m.messageTimestamp)).toBe(1760000000);
	expect(m.message?.pollCreationMessageV3?.options?.map(o => o.optionName)).toEqual(['Pizza', 'Ramen']);
	expect(Buffer.from(m.message!.messageContextInfo!.messageSecret!).equals(Buffer.alloc(32, 7))).toBe(true);
});

test('ephemeralMessage-wrapped extendedTextMessage with Long-ish int64 fields', async () => {
	const message = {
		ephemeralMessage: {
			message: {
				extendedTextMessage: {
					text: 'this vanishes',
					contextInfo: { expiration: 604800, ephemeralSettingTimestamp: { low: 1_700_000_000, high: 0, unsigned: false } }
				}
			}
		}
	};
	const s = await dev.sendRaw({ from: ALICE, message, key: { id: 'RAWEPHEMERAL01' }, messageTimestamp: { low: 1_760_000_100, high: 0, unsigned: true } });
	const m = await expectDelivered(s.id, message);
	expect(m.message?.ephemeralMessage?.message?.extendedTextMessage?.text).toBe('this vanishes');
	expect(Number(m.message?.ephemeralMessage?.message?.extendedTextMessage?.contextInfo?.ephemeralSettingTimestamp)).toBe(1_700_000_000);
	expect(Number(m.messageTimestamp)).toBe(1_760_000_100);
});

test('group, fromMe and made-up media fields are delivered as given', async () => {
	const g = emu.groups.create({ subject: 'Raw', creator: ALICE, participants: [ME] });
	const inGroup = { conversation: 'raw in a group' };
	const gs = await dev.sendRaw({ message: inGroup, key: { remoteJid: g.id, participant: alice.lidJid, id: 'RAWGROUP000001' } });
	expect((await expectDelivered(gs.id, inGroup)).key).toMatchObject({ remoteJid: g.id, participant: alice.lidJid });
	const mine = { extendedTextMessage: { text: 'raw from my phone' } };
	const ms = await dev.sendRaw({ message: mine, key: { remoteJid: alice.lidJid, fromMe: true, id: 'RAWFROMME00001' } });
	expect((await expectDelivered(ms.id, mine)).key).toMatchObject({ remoteJid: alice.lidJid, fromMe: true });
	const image = {
		imageMessage: {
			directPath: '/v/t62.7118-24/made-up.enc?ccb=11-4',
			mediaKey: Buffer.alloc(32, 1).toString('base64'),
			fileSha256: Buffer.alloc(32, 2).toString('base64'),
			fileEncSha256: Buffer.alloc(32, 3).toString('base64'),
			fileLength: '12345',
			mimetype: 'image/jpeg',
			caption: 'not downloadable'
		}
	};
	const is = await dev.sendRaw({ from: ALICE, message: image });
	expect((await expectDelivered(is.id, image)).message?.imageMessage?.directPath).toBe('/v/t62.7118-24/made-up.enc?ccb=11-4');
});

test('a raw send needs a sender', async () => {
	await expect(dev.sendRaw({ message: { conversation: 'x' } })).rejects.toThrow('needs from');
	await expect(dev.sendRaw({ message: { conversation: 'x' }, key: { remoteJid: '999999999999999@lid' } })).rejects.toThrow('needs from');
});
