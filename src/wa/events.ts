// What a socket's events mean for us: messages → normalized → handed to ingest; names,
// LID mappings and group metadata → the directory tables, so normalization never has to
// ask WhatsApp (bursts of group queries get rate-limited).
import { jidDecode, jidNormalizedUser, type GroupMetadata, type WAMessage, type WASocket } from "baileys";
import type { EventType, Message } from "../domain.ts";
import type { Logger } from "../log.ts";
import type { Store } from "../store/db.ts";
import { getAccount } from "../store/accounts.ts";
import { contactNames, getGroup, phoneForLid, saveContacts, saveGroups, saveLidMappings, type GroupInfo } from "../store/directory.ts";
import { normalizeMessage, type NormalizeContext } from "./normalize.ts";

export interface EventDeps {
  store: Store;
  log: Logger;
  /** Store + fan out (ingest/ingest.ts); `events` as the webhook subscriptions name them. */
  deliver(message: Message, events: EventType[]): void;
}

const userOf = (jid: string | null | undefined) => (jid ? (jidDecode(jid)?.user ?? null) : null);
const isLid = (jid: string | null | undefined) => !!jid && jid.endsWith("@lid");
const isPn = (jid: string | null | undefined) => !!jid && jid.endsWith("@s.whatsapp.net");

/** A LID jid and a phone jid of the same person, in either order. */
export function mappingOf(a: string | null | undefined, b: string | null | undefined): { lid: string; phone: string } | null {
  const lid = isLid(a) ? a : isLid(b) ? b : null;
  const pn = isPn(a) ? a : isPn(b) ? b : null;
  const lidUser = userOf(lid);
  const phone = userOf(pn);
  return lidUser && phone ? { lid: lidUser, phone } : null;
}

export function normalizeContext(store: Store, accountId: string): NormalizeContext {
  const { sqlite, db } = store;
  const account = getAccount(db, accountId);
  return {
    accountId,
    me: { phone: account?.phone ?? null, lid: account?.lid ?? null, name: account?.pushName ?? null },
    phoneOf(jid) {
      if (isPn(jid)) return userOf(jid);
      if (isLid(jid)) {
        const lid = userOf(jid);
        if (!lid) return null;
        if (account?.lid && lid === account.lid) return account.phone;
        return phoneForLid(sqlite, accountId, lid);
      }
      return null;
    },
    savedName: (phone) => contactNames(sqlite, accountId, phone)?.savedName ?? null,
    pushName: (phone) => contactNames(sqlite, accountId, phone)?.pushName ?? null,
    group: (jid) => getGroup(sqlite, accountId, jid),
  };
}

function groupInfo(meta: Pick<GroupMetadata, "id" | "subject" | "participants">): GroupInfo {
  return {
    jid: meta.id,
    subject: meta.subject ?? null,
    participants: (meta.participants ?? []).map((p) => ({
      jid: p.id,
      phone: userOf(isPn(p.id) ? p.id : p.phoneNumber) ?? null,
    })),
  };
}

export function attachHandlers(sock: WASocket, accountId: string, deps: EventDeps): void {
  const { store, log } = deps;
  const { sqlite } = store;

  const learnContacts = (list: { id?: string | null; lid?: string | null; phoneNumber?: string | null; name?: string | null; notify?: string | null }[]) => {
    const mappings: { lid: string; phone: string }[] = [];
    const names: { phone: string; savedName?: string | null; pushName?: string | null }[] = [];
    for (const c of list) {
      const m = mappingOf(c.id, c.phoneNumber) ?? mappingOf(c.lid, c.phoneNumber) ?? mappingOf(c.id, c.lid);
      if (m) mappings.push(m);
      const phone = isPn(c.id) ? userOf(c.id) : (m?.phone ?? userOf(c.phoneNumber));
      if (!phone) continue;
      const entry: { phone: string; savedName?: string | null; pushName?: string | null } = { phone };
      if (c.name !== undefined) entry.savedName = c.name;
      if (c.notify !== undefined) entry.pushName = c.notify;
      if (entry.savedName !== undefined || entry.pushName !== undefined) names.push(entry);
    }
    saveLidMappings(sqlite, accountId, mappings);
    saveContacts(sqlite, accountId, names);
  };

  const handle = (messages: WAMessage[], history: boolean) => {
    const ctx = normalizeContext(store, accountId);
    for (const raw of messages) {
      try {
        const result = normalizeMessage(raw, ctx, { history });
        if (result.kind === "skip") continue;
        saveLidMappings(sqlite, accountId, result.mappings);
        if (result.pushNames.length) saveContacts(sqlite, accountId, result.pushNames.map((p) => ({ phone: p.phone, pushName: p.name })));
        deps.deliver(result.message, result.events);
      } catch (error) {
        // One odd message must not stop the others; it is logged with its id only.
        log.error("could not process a WhatsApp message", { account_id: accountId, message_id: raw.key?.id ?? null, error });
      }
    }
  };

  sock.ev.on("messages.upsert", ({ messages, type }) => {
    // notify = live; append = from other devices or catch-up. Both are real messages.
    handle(messages, false);
    if (type !== "notify" && type !== "append") log.debug("upsert of another type", { type });
  });

  sock.ev.on("messaging-history.set", ({ messages, contacts, lidPnMappings, chats }) => {
    saveLidMappings(sqlite, accountId, (lidPnMappings ?? []).flatMap((m) => mappingOf(m.lid, m.pn) ?? []));
    learnContacts(contacts);
    for (const chat of chats) {
      const m = mappingOf(chat.id, (chat as { pnJid?: string | null }).pnJid) ?? mappingOf((chat as { lidJid?: string | null }).lidJid, chat.id);
      if (m) saveLidMappings(sqlite, accountId, [m]);
    }
    handle(messages, true);
  });

  sock.ev.on("contacts.upsert", (list) => learnContacts(list));
  sock.ev.on("contacts.update", (list) => learnContacts(list));
  sock.ev.on("lid-mapping.update", (m) => {
    const pair = mappingOf(m.lid, m.pn);
    if (pair) saveLidMappings(sqlite, accountId, [pair]);
  });

  sock.ev.on("groups.upsert", (groups) => saveGroups(sqlite, accountId, groups.map(groupInfo)));
  sock.ev.on("groups.update", (updates) => {
    for (const u of updates) {
      if (!u.id) continue;
      const cached = getGroup(sqlite, accountId, u.id);
      if (!cached && !u.participants) continue;
      const next: GroupInfo = cached ?? { jid: u.id, subject: null, participants: [] };
      if (u.subject !== undefined) next.subject = u.subject;
      if (u.participants) next.participants = groupInfo({ id: u.id, subject: "", participants: u.participants }).participants;
      saveGroups(sqlite, accountId, [next]);
    }
  });
  sock.ev.on("group-participants.update", ({ id, participants, action }) => {
    const cached = getGroup(sqlite, accountId, id) ?? { jid: id, subject: null, participants: [] };
    const changed = groupInfo({ id, subject: "", participants }).participants;
    const ids = new Set(changed.map((p) => jidNormalizedUser(p.jid)));
    if (action === "add") {
      cached.participants = [...cached.participants.filter((p) => !ids.has(jidNormalizedUser(p.jid))), ...changed];
    } else if (action === "remove") {
      cached.participants = cached.participants.filter((p) => !ids.has(jidNormalizedUser(p.jid)));
    }
    saveGroups(sqlite, accountId, [cached]);
  });

  sock.ev.on("connection.update", ({ connection }) => {
    if (connection !== "open") return;
    // Once per connection, never per message.
    sock
      .groupFetchAllParticipating()
      .then((groups) => {
        const list = Object.values(groups);
        saveGroups(sqlite, accountId, list.map(groupInfo));
        learnContacts(list.flatMap((g) => g.participants));
      })
      .catch((error) => log.warn("could not fetch group metadata", { account_id: accountId, error }));
  });
}
