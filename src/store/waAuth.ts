// Storage of WhatsApp credentials (opaque JSON strings here; src/wa/ encodes them). A
// batch of key changes is one transaction, so a crash never leaves half a Signal session.
import type { Database } from "bun:sqlite";

export function readCreds(sqlite: Database, accountId: string): string | null {
  return sqlite.query<{ data: string }, [string]>("SELECT data FROM wa_creds WHERE account_id = ?").get(accountId)?.data ?? null;
}

export function writeCreds(sqlite: Database, accountId: string, data: string, now = Date.now()): void {
  sqlite
    .query(
      `INSERT INTO wa_creds (account_id, data, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (account_id) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at`,
    )
    .run(accountId, data, now);
}

export function readKeys(sqlite: Database, accountId: string, type: string, ids: string[]): Map<string, string> {
  const out = new Map<string, string>();
  const query = sqlite.query<{ value: string }, [string, string, string]>("SELECT value FROM wa_keys WHERE account_id = ? AND type = ? AND id = ?");
  for (const id of ids) {
    const row = query.get(accountId, type, id);
    if (row) out.set(id, row.value);
  }
  return out;
}

/** `value: null` deletes the key. */
export function writeKeys(sqlite: Database, accountId: string, entries: { type: string; id: string; value: string | null }[]): void {
  const upsert = sqlite.query(
    `INSERT INTO wa_keys (account_id, type, id, value) VALUES (?, ?, ?, ?)
     ON CONFLICT (account_id, type, id) DO UPDATE SET value = excluded.value`,
  );
  const remove = sqlite.query("DELETE FROM wa_keys WHERE account_id = ? AND type = ? AND id = ?");
  sqlite
    .transaction(() => {
      for (const e of entries) {
        if (e.value === null) remove.run(accountId, e.type, e.id);
        else upsert.run(accountId, e.type, e.id, e.value);
      }
    })
    .immediate();
}

export function hasCreds(sqlite: Database, accountId: string): boolean {
  return !!sqlite.query("SELECT 1 FROM wa_creds WHERE account_id = ?").get(accountId);
}

/** After a 401 logout or an admin's logout: the next connection pairs from scratch. */
export function wipeAuth(sqlite: Database, accountId: string): void {
  sqlite
    .transaction(() => {
      sqlite.query("DELETE FROM wa_creds WHERE account_id = ?").run(accountId);
      sqlite.query("DELETE FROM wa_keys WHERE account_id = ?").run(accountId);
    })
    .immediate();
}
