// Retry receipts, answered as WhatsApp's senders do: a device that cannot decrypt a message upserts
// a CIPHERTEXT stub and sends <receipt type="retry"> (Baileys' sendRetryRequest); the sender then
// sends the same message id again, encrypted in a fresh session (a pkmsg from the keys the receipt
// carried or the device's uploaded prekeys). Sends marked `undecryptable` provoke this on purpose;
// 'withhold' ones are answered only when a test releases them.
import { type BinaryNode, extractE2ESessionFromRetryReceipt, getBinaryNodeChild } from 'baileys';
import type { Account, Copy, Emulator, LinkedDevice, Outgoing } from './emulator.ts';
import type { RetryKeys } from './signal.ts';

export type RetryRequest = { count: number; keys?: RetryKeys; answered: boolean; at: number };

/** the copy a device gets now: the retry answer once one is due, else the undecryptable first copy
 * (again, if the connection was lost before the answer) or the normal one */
export function copyFor(device: LinkedDevice, out: Outgoing): Copy {
	const r = device.retries.get(out.id);
	if (r?.answered) {
		// the receipt's one-time prekey serves one session: a later copy uses the uploaded ones
		const keys = r.keys;
		r.keys = undefined;
		return { type: 'retry', count: r.count, keys };
	}
	return { type: out.undecryptable ? 'undecryptable' : 'normal' };
}

export function onRetryReceipt(emu: Emulator, device: LinkedDevice, node: BinaryNode) {
	const id = node.attrs.id ?? '';
	const out = device.unreceipted.get(id);
	if (!out) return emu.log('retry receipt for a stanza not in flight', id);
	const count = Number(getBinaryNodeChild(node, 'retry')?.attrs.count ?? 1);
	const r: RetryRequest = { count, keys: extractE2ESessionFromRetryReceipt(node) ?? undefined, answered: false, at: Date.now() };
	device.retries.set(id, r);
	emu.emit('retry-request', { phone: device.account.phone, deviceId: device.id, id, count, withheld: out.undecryptable === 'withhold' });
	if (out.undecryptable !== 'withhold') answer(emu, device, out, r);
}

function answer(emu: Emulator, device: LinkedDevice, out: Outgoing, r: RetryRequest) {
	r.answered = true;
	emu.resend(device, out);
}

/** stop withholding message `id`: answer the retry receipts already in (a device offline now gets
 * the decryptable copy after its next login), and answer later ones at once. Returns how many
 * devices got the answer now. */
export function releaseRetry(emu: Emulator, account: Account, id: string): number {
	const devices = [...account.devices.values()];
	const withheld = devices.map(d => d.unreceipted.get(id) ?? d.queue.find(o => o.id === id)).find(o => o?.undecryptable === 'withhold');
	if (!withheld) throw new Error(`no withheld message ${id}`);
	// one Outgoing serves every device of the account
	withheld.undecryptable = 'retry';
	let answered = 0;
	for (const d of devices) {
		const r = d.retries.get(id);
		if (!r || r.answered) continue;
		const inFlight = d.unreceipted.get(id);
		if (inFlight) {
			answer(emu, d, inFlight, r);
			answered++;
		} else r.answered = true;
	}
	return answered;
}
