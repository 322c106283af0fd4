// Storage of WhatsApp credentials (opaque JSON strings here; src/wa/ encodes them). A
// batch of key changes is one transaction, so a crash never leaves half a Signal session.
import type { Store } from "./db.ts";
import type { RawRow } from "./rows.ts";
import type { waCreds, waKeys } from "./schema.ts";

export function readCreds(store: Store, accountId: string): string | null {
  return store.sqlite.query<Pick<RawRow<typeof waCreds>, "data">, [string]>("SELECT data FROM wa_creds WHERE account_id = ?").get(accountId)?.data ?? null;
}

export function writeCreds(store: Store, accountId: string, data: string, now = Date.now()): void {
  store.sqlite
    .query(
      `INSERT INTO wa_creds (account_id, data, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (account_id) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at`,
    )
    .run(accountId, data, now);
}

export function readKeys(store: Store, accountId: string, type: string, ids: string[]): Map<string, string> {
  const out = new Map<string, string>();
  const query = store.sqlite.query<Pick<RawRow<typeof waKeys>, "value">, [string, string, string]>("SELECT value FROM wa_keys WHERE account_id = ? AND type = ? AND id = ?");
  for (const id of ids) {
    const row = query.get(accountId, type, id);
    if (row) out.set(id, row.value);
  }
  return out;
}

/** `value: null` deletes the key. */
export function writeKeys(store: Store, accountId: string, entries: { type: string; id: string; value: string | null }[]): void {
  const upsert = store.sqlite.query(
    `INSERT INTO wa_keys (account_id, type, id, value) VALUES (?, ?, ?, ?)
     ON CONFLICT (account_id, type, id) DO UPDATE SET value = excluded.value`,
  );
  const remove = store.sqlite.query("DELETE FROM wa_keys WHERE account_id = ? AND type = ? AND id = ?");
  store.sqlite
    .transaction(() => {
      for (const e of entries) {
        if (e.value === null) remove.run(accountId, e.type, e.id);
        else upsert.run(accountId, e.type, e.id, e.value);
      }
    })
    .immediate();
}

export function hasCreds(store: Store, accountId: string): boolean {
  return !!store.sqlite.query("SELECT 1 FROM wa_creds WHERE account_id = ?").get(accountId);
}

/** After a 401 logout or an admin's logout: the next connection pairs from scratch. */
export function wipeAuth(store: Store, accountId: string): void {
  store.sqlite
    .transaction(() => {
      store.sqlite.query("DELETE FROM wa_creds WHERE account_id = ?").run(accountId);
      store.sqlite.query("DELETE FROM wa_keys WHERE account_id = ?").run(accountId);
    })
    .immediate();
}
