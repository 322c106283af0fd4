// Who is who, per account: LID ↔ phone mappings, contact names, group subjects and
// members. Written from WhatsApp events, read for every message (so reads are by key).
import type { Database } from "bun:sqlite";

export function saveLidMappings(sqlite: Database, accountId: string, pairs: { lid: string; phone: string }[], now = Date.now()): void {
  // Most messages repeat a mapping already known: a read is far cheaper than a commit.
  pairs = pairs.filter((p) => phoneForLid(sqlite, accountId, p.lid) !== p.phone);
  if (!pairs.length) return;
  const q = sqlite.query(
    `INSERT INTO lid_mappings (account_id, lid, phone, updated_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (account_id, lid) DO UPDATE SET phone = excluded.phone, updated_at = excluded.updated_at WHERE phone != excluded.phone`,
  );
  sqlite.transaction(() => pairs.forEach((p) => q.run(accountId, p.lid, p.phone, now)))();
}

export function phoneForLid(sqlite: Database, accountId: string, lid: string): string | null {
  return sqlite.query<{ phone: string }, [string, string]>("SELECT phone FROM lid_mappings WHERE account_id = ? AND lid = ?").get(accountId, lid)?.phone ?? null;
}

/** Only the names given are changed; `undefined` keeps what is stored. */
export function saveContacts(
  sqlite: Database,
  accountId: string,
  list: { phone: string; savedName?: string | null; pushName?: string | null }[],
  now = Date.now(),
): void {
  list = list.filter((c) => {
    const known = contactNames(sqlite, accountId, c.phone);
    if (!known) return true;
    return (c.savedName !== undefined && c.savedName !== known.savedName) || (c.pushName !== undefined && c.pushName !== known.pushName);
  });
  if (!list.length) return;
  const q = sqlite.query(
    `INSERT INTO contacts (account_id, phone, saved_name, push_name, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)
     ON CONFLICT (account_id, phone) DO UPDATE SET
       saved_name = CASE WHEN ?6 THEN excluded.saved_name ELSE saved_name END,
       push_name = CASE WHEN ?7 THEN excluded.push_name ELSE push_name END,
       updated_at = excluded.updated_at`,
  );
  sqlite.transaction(() => {
    for (const c of list) {
      q.run(accountId, c.phone, c.savedName ?? null, c.pushName ?? null, now, c.savedName !== undefined ? 1 : 0, c.pushName !== undefined ? 1 : 0);
    }
  })();
}

export function contactNames(sqlite: Database, accountId: string, phone: string): { savedName: string | null; pushName: string | null } | null {
  const row = sqlite
    .query<{ saved_name: string | null; push_name: string | null }, [string, string]>("SELECT saved_name, push_name FROM contacts WHERE account_id = ? AND phone = ?")
    .get(accountId, phone);
  return row ? { savedName: row.saved_name, pushName: row.push_name } : null;
}

export interface GroupInfo {
  jid: string;
  subject: string | null;
  participants: { jid: string; phone: string | null }[];
}

export function saveGroups(sqlite: Database, accountId: string, groups: GroupInfo[], now = Date.now()): void {
  if (!groups.length) return;
  const q = sqlite.query(
    `INSERT INTO wa_groups (account_id, jid, subject, participants, updated_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (account_id, jid) DO UPDATE SET subject = excluded.subject, participants = excluded.participants, updated_at = excluded.updated_at`,
  );
  sqlite.transaction(() => groups.forEach((g) => q.run(accountId, g.jid, g.subject, JSON.stringify(g.participants), now)))();
}

export function getGroup(sqlite: Database, accountId: string, jid: string): GroupInfo | null {
  const row = sqlite
    .query<{ jid: string; subject: string | null; participants: string }, [string, string]>(
      "SELECT jid, subject, participants FROM wa_groups WHERE account_id = ? AND jid = ?",
    )
    .get(accountId, jid);
  return row ? { jid: row.jid, subject: row.subject, participants: JSON.parse(row.participants) } : null;
}
