import { afterAll, beforeAll, expect, test } from 'bun:test';
import { WAMessageAddressingMode } from 'baileys';
import { pairByQr, type TestClient } from './client.ts';
import type { DeviceHandle } from './device.ts';
import { type StartedEmulator, startEmulator } from './emulator.ts';

const ME = '15550002000';
const ALICE = '15551230101';
const BOB = '15551230102';
let emu: StartedEmulator;
let client: TestClient;
let dev: DeviceHandle;
let groupId: string;

beforeAll(async () => {
	emu = await startEmulator({ seed: 'groups', history: { enabled: false } });
	groupId = emu.groups.create({ subject: 'Team', creator: ALICE, participants: [ME, BOB], description: 'our team' }).id;
	({ client } = await pairByQr(emu, ME, { history: false }));
	dev = emu.device(ME);
	await client.waitFor('connection.update', u => u.receivedPendingNotifications === true);
});
afterAll(async () => {
	client.end();
	await emu.close();
});

test('groupFetchAllParticipating and groupMetadata list participants by LID with phones', async () => {
	const all = await client.sock.groupFetchAllParticipating();
	const g = all[groupId];
	expect(g?.subject).toBe('Team');
	expect(g?.addressingMode).toBe(WAMessageAddressingMode.LID);
	expect(g?.desc).toBe('our team');
	const alice = dev.contact(ALICE);
	expect(g?.participants).toContainEqual(expect.objectContaining({ id: alice.lidJid, phoneNumber: alice.pnJid, admin: 'superadmin' }));
	expect(g?.participants.map(p => p.phoneNumber).sort()).toEqual([`${ALICE}@s.whatsapp.net`, `${BOB}@s.whatsapp.net`, `${ME}@s.whatsapp.net`].sort());
	const meta = await client.sock.groupMetadata(groupId);
	expect(meta.owner).toBe(alice.lidJid);
	expect(meta.ownerPn).toBe(alice.pnJid);
	expect(meta.size).toBe(3);
	await expect(client.sock.groupMetadata('120363999999999999@g.us')).rejects.toThrow();
});

test('group messages: sender key distribution then skmsg, participant LID with phone alternate', async () => {
	const a = await dev.sendText({ from: ALICE, group: groupId, text: 'hello team', pushName: 'Alice' });
	const b = await dev.sendText({ from: ALICE, group: groupId, text: 'second (sender key only)' });
	const c = await dev.sendText({ from: BOB, group: groupId, text: 'bob here', via: 'pn' });
	const ma = await client.waitForMessage(m => m.key.id === a.id);
	const mb = await client.waitForMessage(m => m.key.id === b.id);
	const mc = await client.waitForMessage(m => m.key.id === c.id);
	const alice = dev.contact(ALICE);
	expect(ma.key).toMatchObject({ remoteJid: groupId, participant: alice.lidJid, participantAlt: alice.pnJid, addressingMode: 'lid', fromMe: false });
	expect(ma.message?.conversation).toBe('hello team');
	expect(mb.message?.conversation).toBe('second (sender key only)');
	expect(mc.key).toMatchObject({ participant: dev.contact(BOB).pnJid, participantAlt: dev.contact(BOB).lidJid, addressingMode: 'pn' });
	expect(mc.message?.conversation).toBe('bob here');
});

test('group media decrypts too', async () => {
	const s = await dev.sendMedia({ from: BOB, group: groupId, kind: 'image', caption: 'pic' });
	const m = await client.waitForMessage(x => x.key.id === s.id);
	expect(m.message?.imageMessage?.caption).toBe('pic');
});

test('subject change arrives as w:gp2 notification → groups.update', async () => {
	emu.groups.setSubject(groupId, 'Team 2', ALICE);
	const u = await client.waitFor('groups.update', list => list.some(g => g.subject === 'Team 2'));
	expect(u[0]?.id).toBe(groupId);
});

test('participants added and removed → group-participants.update', async () => {
	const carol = '15551230103';
	emu.groups.addParticipants(groupId, [carol], ALICE);
	const add = await client.waitFor('group-participants.update', e => e.action === 'add');
	expect(add.id).toBe(groupId);
	expect(add.participants).toContainEqual(expect.objectContaining({ id: dev.contact(carol).lidJid, phoneNumber: dev.contact(carol).pnJid }));
	emu.groups.removeParticipants(groupId, [BOB], ALICE);
	const rem = await client.waitFor('group-participants.update', e => e.action === 'remove');
	expect(rem.participants.map(p => p.id)).toEqual([dev.contact(BOB).lidJid]);
	const meta = await client.sock.groupMetadata(groupId);
	expect(meta.participants.length).toBe(3);
});

test('a message the device sends to the group is acknowledged and decrypted', async () => {
	const sent = await client.sock.sendMessage(groupId, { text: 'from the device to the group' });
	const rec = await dev.waitForSent(s => s.id === sent!.key.id);
	expect(rec.to).toBe(groupId);
	expect(rec.message).toMatchObject({ extendedTextMessage: { text: 'from the device to the group' } });
});

test('fromMe group message sent from the phone', async () => {
	const s = await dev.sendText({ fromMe: true, group: groupId, text: 'me on my phone' });
	const m = await client.waitForMessage(x => x.key.id === s.id);
	expect(m.key.fromMe).toBe(true);
	expect(m.key.remoteJid).toBe(groupId);
	expect(m.message?.conversation).toBe('me on my phone');
});
