// Who is who, per account: LID ↔ phone mappings, contact names, group subjects and
// members. Written from WhatsApp events, read for every message (so reads are by key).
import type { Store } from "./db.ts";
import type { RawRow } from "./rows.ts";
import type { contacts, lidMappings, waGroups } from "./schema.ts";

export function saveLidMappings(store: Store, accountId: string, pairs: { lid: string; phone: string }[], now = Date.now()): void {
  // Most messages repeat a mapping already known: a read is far cheaper than a commit.
  pairs = pairs.filter((p) => phoneForLid(store, accountId, p.lid) !== p.phone);
  if (!pairs.length) return;
  const q = store.sqlite.query(
    `INSERT INTO lid_mappings (account_id, lid, phone, updated_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (account_id, lid) DO UPDATE SET phone = excluded.phone, updated_at = excluded.updated_at WHERE phone != excluded.phone`,
  );
  store.sqlite.transaction(() => pairs.forEach((p) => q.run(accountId, p.lid, p.phone, now)))();
}

export function phoneForLid(store: Store, accountId: string, lid: string): string | null {
  return store.sqlite.query<Pick<RawRow<typeof lidMappings>, "phone">, [string, string]>("SELECT phone FROM lid_mappings WHERE account_id = ? AND lid = ?").get(accountId, lid)?.phone ?? null;
}

/** Only the names given are changed; `undefined` keeps what is stored. */
export function saveContacts(
  store: Store,
  accountId: string,
  list: { phone: string; savedName?: string | null; pushName?: string | null }[],
  now = Date.now(),
): void {
  list = list.filter((c) => {
    const known = contactNames(store, accountId, c.phone);
    if (!known) return true;
    return (c.savedName !== undefined && c.savedName !== known.savedName) || (c.pushName !== undefined && c.pushName !== known.pushName);
  });
  if (!list.length) return;
  const q = store.sqlite.query(
    `INSERT INTO contacts (account_id, phone, saved_name, push_name, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)
     ON CONFLICT (account_id, phone) DO UPDATE SET
       saved_name = CASE WHEN ?6 THEN excluded.saved_name ELSE saved_name END,
       push_name = CASE WHEN ?7 THEN excluded.push_name ELSE push_name END,
       updated_at = excluded.updated_at`,
  );
  store.sqlite.transaction(() => {
    for (const c of list) {
      q.run(accountId, c.phone, c.savedName ?? null, c.pushName ?? null, now, c.savedName !== undefined ? 1 : 0, c.pushName !== undefined ? 1 : 0);
    }
  })();
}

export function contactNames(store: Store, accountId: string, phone: string): { savedName: string | null; pushName: string | null } | null {
  const row = store.sqlite
    .query<Pick<RawRow<typeof contacts>, "saved_name" | "push_name">, [string, string]>("SELECT saved_name, push_name FROM contacts WHERE account_id = ? AND phone = ?")
    .get(accountId, phone);
  return row ? { savedName: row.saved_name, pushName: row.push_name } : null;
}

export interface GroupInfo {
  jid: string;
  subject: string | null;
  participants: { jid: string; phone: string | null }[];
}

export function saveGroups(store: Store, accountId: string, groups: GroupInfo[], now = Date.now()): void {
  if (!groups.length) return;
  const q = store.sqlite.query(
    `INSERT INTO wa_groups (account_id, jid, subject, participants, updated_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (account_id, jid) DO UPDATE SET subject = excluded.subject, participants = excluded.participants, updated_at = excluded.updated_at`,
  );
  store.sqlite.transaction(() => groups.forEach((g) => q.run(accountId, g.jid, g.subject, JSON.stringify(g.participants), now)))();
}

export function getGroup(store: Store, accountId: string, jid: string): GroupInfo | null {
  const row = store.sqlite
    .query<Pick<RawRow<typeof waGroups>, "jid" | "subject" | "participants">, [string, string]>(
      "SELECT jid, subject, participants FROM wa_groups WHERE account_id = ? AND jid = ?",
    )
    .get(accountId, jid);
  return row ? { jid: row.jid, subject: row.subject, participants: JSON.parse(row.participants) } : null;
}
