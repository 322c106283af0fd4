// In-memory Signal key store with the transaction shape Baileys' repository expects.
// Used for the emulator's own identities (contacts, the account's phone) and by the test client.
import type { SignalDataSet, SignalDataTypeMap, SignalKeyStoreWithTransaction } from 'baileys';

export function memoryKeyStore(): SignalKeyStoreWithTransaction & { data: Record<string, Record<string, unknown>> } {
	const data: Record<string, Record<string, unknown>> = {};
	return {
		data,
		async get<T extends keyof SignalDataTypeMap>(type: T, ids: string[]) {
			const bucket = data[type] ?? {};
			const out: { [id: string]: SignalDataTypeMap[T] } = {};
			for (const id of ids) {
				const v = bucket[id];
				if (v !== undefined && v !== null) out[id] = v as SignalDataTypeMap[T];
			}
			return out;
		},
		async set(set: SignalDataSet) {
			for (const type in set) {
				const bucket = (data[type] ??= {});
				const values = set[type as keyof SignalDataSet] ?? {};
				for (const id in values) {
					const v = (values as Record<string, unknown>)[id];
					if (v === null || v === undefined) delete bucket[id];
					else bucket[id] = v;
				}
			}
		},
		async clear() {
			for (const k of Object.keys(data)) delete data[k];
		},
		// a single-threaded in-memory map needs no real transactions
		isInTransaction: () => false,
		transaction: <T>(exec: () => Promise<T>) => exec()
	};
}
