// Which stanzas a linked device confirmed. WhatsApp keeps a stanza until the device confirms it (a
// receipt of any type but "retry" for messages, an ack for notifications) and delivers the rest
// again after the next login; this is the bookkeeping behind that and its report.
import type { Account, LinkedDevice, Outgoing, StanzaKind } from './emulator.ts';

export type Confirmation = { id: string; kind: StanzaKind; device: number; receipts: string[]; at: number };
export type Unconfirmed = { id: string; kind: StanzaKind; device: number; state: 'queued' | 'in_flight'; retries?: number; withheld?: boolean };

/** the device confirmed these stanza ids with a receipt of `type` (or 'ack') */
export function confirm(device: LinkedDevice, ids: string[], type: string) {
	for (const id of ids) {
		const known = device.confirmed.get(id);
		if (known) {
			// later receipts (read, hist_sync …) add to the first
			if (!known.receipts.includes(type)) known.receipts.push(type);
			continue;
		}
		const out = device.unreceipted.get(id);
		if (!out) continue;
		device.unreceipted.delete(id);
		device.retries.delete(id);
		device.confirmed.set(id, { id, kind: out.kind, device: device.id, receipts: [type], at: Date.now() });
	}
}

/** confirmed stanzas, and the ones that go out (again) after the next login, in that order */
export function confirmations(account: Account): { confirmed: Confirmation[]; unconfirmed: Unconfirmed[] } {
	const confirmed: Confirmation[] = [];
	const unconfirmed: Unconfirmed[] = [];
	for (const d of account.devices.values()) {
		confirmed.push(...d.confirmed.values());
		const entry = (out: Outgoing, state: Unconfirmed['state']): Unconfirmed => {
			const r = d.retries.get(out.id);
			const e: Unconfirmed = { id: out.id, kind: out.kind, device: d.id, state };
			if (r) Object.assign(e, { retries: r.count, withheld: !r.answered && out.undecryptable === 'withhold' });
			return e;
		};
		for (const out of d.unreceipted.values()) unconfirmed.push(entry(out, 'in_flight'));
		for (const out of d.queue) unconfirmed.push(entry(out, 'queued'));
	}
	return { confirmed, unconfirmed };
}
