// What a socket's events mean for us: messages → normalized → handed to ingest; names,
// LID mappings and group metadata → the directory tables, so normalization never has to
// ask WhatsApp (bursts of group queries get rate-limited).
import { getHistoryMsg, jidNormalizedUser, PROCESSABLE_HISTORY_TYPES, proto, type BaileysEventMap, type GroupMetadata, type WAMessage, type WASocket } from "baileys";
import { triggerOf, type EventType, type Message, type MessageStatusChange } from "../domain.ts";
import type { Logger } from "../log.ts";
import type { Store } from "../store/db.ts";
import type { GroupCommit } from "../store/groupCommit.ts";
import { getAccount } from "../store/accounts.ts";
import { contactNames, getGroup, phoneForLid, saveContacts, saveGroups, saveLidMappings, type GroupInfo } from "../store/directory.ts";
import { findMessage } from "../store/messages.ts";
import { finishHistoryNotification, matchHistoryNotification, recordHistoryNotification } from "../store/historyNotifications.ts";
import { onEmit } from "./emitTap.ts";
import { recoverHistory } from "./historyRecovery.ts";
import { isGroupJid, isLid, isPn, mappingOf, userOf } from "./jids.ts";
import { messageStatusOf, normalizeMessage, receiptStatusOf, type NormalizeContext } from "./normalize.ts";

/** One history chunk as Baileys emits it (messaging-history.set). */
export type HistoryChunk = BaileysEventMap["messaging-history.set"];

export interface EventDeps {
  store: Store;
  log: Logger;
  /** Live messages are stored at the end of the turn, together (store/groupCommit.ts). */
  commit?: GroupCommit;
  /** Store + fan out (ingest/ingest.ts); `events` as the webhook subscriptions name them. */
  deliver(message: Message, events: EventType[]): void;
  /** Store history, not delivered (ingest/history.ts); called in slices of HISTORY_SLICE. */
  storeHistory(accountId: string, messages: Message[]): void;
  /** WhatsApp's ticks for messages the user sent (`message.status` events). */
  messageStatus?(accountId: string, changes: MessageStatusChange[]): void;
  /** The phone answered an on-demand history request with `count` messages. */
  historyAnswered(requestId: string, count: number): void;
}

/** History is normalized and stored this many messages at a time, so memory stays bounded. */
export const HISTORY_SLICE = 500;
const BIG_HISTORY_CHUNK = 2_000;

/**
 * What normalization may know about people and groups, read from our tables. One context
 * serves one batch (an upsert, a history chunk): lookups are remembered for the batch, as a
 * history chunk asks the same few hundred names and LIDs thousands of times.
 */
export function normalizeContext(store: Store, accountId: string): NormalizeContext {
  const account = getAccount(store, accountId);
  const memo = <T>(load: (key: string) => T) => {
    const seen = new Map<string, T>();
    return (key: string): T => {
      if (seen.has(key)) return seen.get(key)!;
      const value = load(key);
      seen.set(key, value);
      return value;
    };
  };
  const lidPhone = memo((lid) => phoneForLid(store, accountId, lid));
  const names = memo((phone) => contactNames(store, accountId, phone));
  return {
    accountId,
    me: { phone: account?.phone ?? null, lid: account?.lid ?? null, name: account?.pushName ?? null },
    phoneOf(jid) {
      if (isPn(jid)) return userOf(jid);
      if (isLid(jid)) {
        const lid = userOf(jid);
        if (!lid) return null;
        if (account?.lid && lid === account.lid) return account.phone;
        return lidPhone(lid);
      }
      return null;
    },
    savedName: (phone) => names(phone)?.savedName ?? null,
    pushName: (phone) => names(phone)?.pushName ?? null,
    group: memo((jid) => getGroup(store, accountId, jid)),
    storedRaw: (chatId, messageId) => findMessage(store, accountId, chatId, messageId)?.raw ?? null,
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
    saveLidMappings(store, accountId, mappings);
    saveContacts(store, accountId, names);
  };

  const handle = (messages: WAMessage[]) => {
    const ctx = normalizeContext(store, accountId);
    for (const raw of messages) {
      try {
        rememberHistoryNotification(raw);
        const result = normalizeMessage(raw, ctx, { history: false });
        if (result.kind === "skip") {
          log.debug("WhatsApp message not delivered", { account_id: accountId, message_id: raw.key?.id ?? null, reason: result.reason });
          continue;
        }
        saveLidMappings(store, accountId, result.mappings);
        if (result.pushNames.length) saveContacts(store, accountId, result.pushNames.map((p) => ({ phone: p.phone, pushName: p.name })));
        deps.deliver(result.message, result.events);
      } catch (error) {
        // One odd message must not stop the others; it is logged with its id only.
        log.error("could not process a WhatsApp message", { account_id: accountId, message_id: raw.key?.id ?? null, error });
      }
    }
  };

  /**
   * A history notification's receipt leaves with this commit, but its chunk is downloaded
   * only afterwards: the row says it is still to be stored (schema.ts, historyNotifications).
   */
  const rememberHistoryNotification = (raw: WAMessage) => {
    const notification = raw.message ? getHistoryMsg(raw.message) : undefined;
    if (!notification || !raw.key?.id) return;
    const syncType = notification.syncType ?? proto.HistorySync.HistorySyncType.INITIAL_BOOTSTRAP;
    if (!PROCESSABLE_HISTORY_TYPES.includes(syncType as never)) return;
    recordHistoryNotification(
      store,
      {
        accountId,
        messageId: raw.key.id,
        syncType,
        chunkOrder: notification.chunkOrder ?? null,
        requestId: notification.peerDataRequestSessionId ?? null,
        notification: Buffer.from(proto.Message.HistorySyncNotification.encode(notification).finish()).toString("base64"),
      },
      Date.now(),
    );
  };

  /** Normalized in slices; names and mappings seen are saved once per slice. */
  const storeHistory = (messages: WAMessage[]) => {
    const ctx = normalizeContext(store, accountId);
    for (let start = 0; start < messages.length; start += HISTORY_SLICE) {
      const slice: Message[] = [];
      const mappings: { lid: string; phone: string }[] = [];
      const pushNames = new Map<string, string>();
      for (const raw of messages.slice(start, start + HISTORY_SLICE)) {
        try {
          const result = normalizeMessage(raw, ctx, { history: true });
          if (result.kind === "skip") continue;
          // An edit is an event about another message, not a message a backfill would send.
          if (!result.events.includes(triggerOf(result.message.direction))) continue;
          mappings.push(...result.mappings);
          for (const p of result.pushNames) pushNames.set(p.phone, p.name);
          slice.push(result.message);
        } catch (error) {
          log.error("could not process a history message", { account_id: accountId, message_id: raw.key?.id ?? null, error });
        }
      }
      saveLidMappings(store, accountId, mappings);
      saveContacts(store, accountId, [...pushNames].map(([phone, pushName]) => ({ phone, pushName })));
      if (slice.length) deps.storeHistory(accountId, slice);
    }
  };

  /** The upserts of this turn, handled together at its end (one context, one piece). */
  let thisTurn: WAMessage[] | null = null;
  // At emission, not from Baileys' buffer: their receipts are waiting for this very turn's
  // commit (emitTap.ts).
  onEmit(sock, "messages.upsert", ({ messages, type }) => {
    // notify = live; append = from other devices or catch-up. Both are real messages.
    if (!deps.commit) handle(messages);
    else if (thisTurn) thisTurn.push(...messages);
    else {
      const batch = (thisTurn = [...messages]);
      deps.commit.defer(`messages.upsert ${accountId}`, () => {
        // Run again if its commit failed: the batch, not whatever arrived since.
        if (thisTurn === batch) thisTurn = null;
        handle(batch);
      });
    }
    if (type !== "notify" && type !== "append") log.debug("upsert of another type", { type });
  });

  /** Names, mappings and messages of one history chunk. */
  const storeHistoryChunk = ({ messages, contacts, lidPnMappings, chats, peerDataRequestSessionId }: HistoryChunk) => {
    saveLidMappings(store, accountId, (lidPnMappings ?? []).flatMap((m) => mappingOf(m.lid, m.pn) ?? []));
    learnContacts(contacts);
    const chatMappings: { lid: string; phone: string }[] = [];
    const subjects: GroupInfo[] = [];
    for (const chat of chats) {
      const c = chat as { id: string; pnJid?: string | null; lidJid?: string | null; name?: string | null };
      const m = mappingOf(c.id, c.pnJid) ?? mappingOf(c.lidJid, c.id);
      if (m) chatMappings.push(m);
      // A group we are not in any more still has a name in history; keep it for titles.
      if (isGroupJid(c.id) && c.name && !getGroup(store, accountId, c.id)) subjects.push({ jid: c.id, subject: c.name, participants: [] });
    }
    saveLidMappings(store, accountId, chatMappings);
    saveGroups(store, accountId, subjects);
    storeHistory(messages);
    // A large chunk leaves tens of MB of decoded protobuf and JSON behind; collecting it now,
    // before the next chunk is decoded, keeps peak memory near one chunk's worth.
    if (messages.length >= BIG_HISTORY_CHUNK) Bun.gc(true);
    if (peerDataRequestSessionId) deps.historyAnswered(peerDataRequestSessionId, messages.length);
  };

  /** A chunk and the removal of its notification's row, together; `from` when known (a recovery). */
  const storeHistorySet = (set: HistoryChunk, known?: string) => {
    storeHistoryChunk(set);
    const syncType = (set as { syncType?: number | null }).syncType ?? null;
    const requestId = set.peerDataRequestSessionId ?? null;
    const from = known ?? (syncType === null ? null : matchHistoryNotification(store, accountId, syncType, set.chunkOrder ?? null, requestId));
    if (from) finishHistoryNotification(store, accountId, from);
    else log.debug("a history chunk with no pending notification", { account_id: accountId, sync_type: syncType, chunk_order: set.chunkOrder ?? null });
  };

  // Each chunk as Baileys emits it (its buffer would merge chunks and drop their LID
  // mappings), after the notification's row is committed. Not inside the group commit:
  // thousands of messages in one of its savepoints stored 7x slower (bench/history.ts,
  // 4.3k against 29k msg/s); history is stored in batches of its own and its row removed
  // after them, so a crash in between only means fetching the chunk again.
  const storeChunkNow = (set: HistoryChunk, known?: string) => {
    deps.commit?.flushNow(false);
    storeHistorySet(set, known);
  };
  onEmit(sock, "messaging-history.set", (set) => storeChunkNow(set));

  // Ticks, taken when Baileys emits them (its buffer merges them away otherwise) and stored
  // in the commit that releases their acks, like messages.
  const statuses = (changes: (MessageStatusChange | null)[]) => {
    const found = changes.filter((c): c is MessageStatusChange => c !== null);
    if (!found.length || !deps.messageStatus) return;
    const queue = () => deps.messageStatus!(accountId, found);
    if (!deps.commit) queue();
    else deps.commit.defer(`message status ${accountId}`, queue);
  };
  onEmit(sock, "messages.update", (updates) => {
    // Most updates are about other people's messages (edits, stubs): no directory reads for those.
    const mine = updates.filter(({ key, update }) => key.fromMe && update.status !== undefined && update.status !== null);
    if (!mine.length) return;
    const ctx = normalizeContext(store, accountId);
    const now = Math.floor(Date.now() / 1000);
    statuses(mine.map(({ key, update }) => messageStatusOf(key, update.status, ctx, (update.messageTimestamp as number | undefined) || now)));
  });
  onEmit(sock, "message-receipt.update", (receipts) => {
    const mine = receipts.filter(({ key }) => key.fromMe);
    if (!mine.length) return;
    const ctx = normalizeContext(store, accountId);
    statuses(mine.map(({ key, receipt }) => receiptStatusOf(key, receipt, ctx)));
  });

  sock.ev.on("contacts.upsert", (list) => learnContacts(list));
  sock.ev.on("contacts.update", (list) => learnContacts(list));
  sock.ev.on("lid-mapping.update", (m) => {
    const pair = mappingOf(m.lid, m.pn);
    if (pair) saveLidMappings(store, accountId, [pair]);
  });

  sock.ev.on("groups.upsert", (groups) => saveGroups(store, accountId, groups.map(groupInfo)));
  sock.ev.on("groups.update", (updates) => {
    for (const u of updates) {
      if (!u.id) continue;
      const cached = getGroup(store, accountId, u.id);
      if (!cached && !u.participants) continue;
      const next: GroupInfo = cached ?? { jid: u.id, subject: null, participants: [] };
      if (u.subject !== undefined) next.subject = u.subject;
      if (u.participants) next.participants = groupInfo({ id: u.id, subject: "", participants: u.participants }).participants;
      saveGroups(store, accountId, [next]);
    }
  });
  sock.ev.on("group-participants.update", ({ id, participants, action }) => {
    const cached = getGroup(store, accountId, id) ?? { jid: id, subject: null, participants: [] };
    const changed = groupInfo({ id, subject: "", participants }).participants;
    const ids = new Set(changed.map((p) => jidNormalizedUser(p.jid)));
    if (action === "add") {
      cached.participants = [...cached.participants.filter((p) => !ids.has(jidNormalizedUser(p.jid))), ...changed];
    } else if (action === "remove") {
      cached.participants = cached.participants.filter((p) => !ids.has(jidNormalizedUser(p.jid)));
    }
    saveGroups(store, accountId, [cached]);
  });

  sock.ev.on("connection.update", ({ connection }) => {
    if (connection !== "open") return;
    void recoverHistory({
      store,
      accountId,
      log,
      before: Date.now(),
      save: storeChunkNow,
    });
    // Once per connection, never per message.
    sock
      .groupFetchAllParticipating()
      .then((groups) => {
        const list = Object.values(groups);
        saveGroups(store, accountId, list.map(groupInfo));
        learnContacts(list.flatMap((g) => g.participants));
      })
      .catch((error) => log.warn("could not fetch group metadata", { account_id: accountId, error }));
  });
}
