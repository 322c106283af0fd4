// What comes in to be delivered, as rows, each arrival in one transaction (a savepoint of
// the group commit's when one is open): a live message with one outbox row per webhook
// that takes it, a batch of history (stored, and handed to the account's automatic
// backfill), an event of an account (account.status, message.status) or a test event.
// What is queued when is decided by the caller (src/ingest/); this is the rows.
import type { EventType, MediaStatus, Message } from "../domain.ts";
import { touchAutoBackfill } from "./backfills.ts";
import type { Store } from "./db.ts";
import { insertMedia } from "./media.ts";
import { insertMessage, replaceCiphertext } from "./messages.ts";
import { enqueue, makeDueAt, unsentRowOf, type EnqueueInput } from "./outbox.ts";
import { allWebhookTargets, historyWebhooks, subscribes } from "./webhooks.ts";

/** How a live message is queued. */
export interface LiveQueueing {
  /** The events it is queued under, for every webhook that subscribes to them. */
  events: EventType[];
  /** The status of its media row; null: no media row. */
  media: MediaStatus | null;
  /** Not before this time: a placeholder's grace, a media download's hold. */
  availableAt: number;
  priority: number;
  now: number;
}

export interface LiveResult {
  /** The message's row; null when it was stored already (nothing changed). */
  rowid: number | null;
  enqueued: number;
}

/**
 * Stores a message and queues it. The content of a message stored so far as its
 * `ciphertext` placeholder takes the placeholder's row, and the placeholder's rows not sent
 * yet send the content (payloads are built from the stored message); one already sent gets
 * a new row after it, same message.id.
 */
export function storeLiveMessage(store: Store, message: Message, q: LiveQueueing): LiveResult {
  return store.sqlite
    .transaction((): LiveResult => {
      let rowid = message.type === "ciphertext" ? null : replaceCiphertext(store, message);
      const replacing = rowid !== null;
      rowid ??= insertMessage(store, message, q.now);
      if (rowid === null) return { rowid: null, enqueued: 0 };
      if (message.media && q.media) insertMedia(store, mediaRowOf(message, rowid, q.media), q.now);
      const webhooks = allWebhookTargets(store);
      let enqueued = 0;
      for (const event of q.events) {
        for (const w of webhooks) {
          if (!subscribes(w, event, message.accountId)) continue;
          const unsent = replacing ? unsentRowOf(store.sqlite, rowid, w.id, event) : null;
          if (unsent) makeDueAt(store.sqlite, unsent, q.availableAt);
          else {
            enqueue(
              store.sqlite,
              {
                webhookId: w.id,
                ordering: w.ordering,
                event,
                accountId: message.accountId,
                chatKey: message.chatId,
                messageRowid: rowid,
                data: null,
                priority: q.priority,
                availableAt: q.availableAt,
              },
              q.now,
            );
          }
          enqueued++;
        }
      }
      return { rowid, enqueued };
    })
    .immediate();
}

/** How a batch of history is stored. */
export interface HistoryStoring {
  /** The status of a message's media row (history media waits for a backfill); null: none. */
  mediaOf(message: Message): MediaStatus | null;
  /** The account's automatic backfill: planning after this time, at this pace. */
  autoBackfill: { planAfter: number; ratePerS: number };
  now: number;
}

export interface HistoryBatchResult {
  stored: number;
  duplicates: number;
  /** The automatic backfill opened or extended (some webhook asks for history), or null. */
  autoBackfillId: string | null;
}

/**
 * Stores history messages of one account (duplicates change nothing; a placeholder takes
 * its content as live), and when a webhook asks for history, opens or extends the account's
 * automatic backfill in the same transaction: what is stored will be sent even if the
 * process dies right after the commit.
 */
export function storeHistoryBatch(store: Store, accountId: string, messages: Message[], h: HistoryStoring): HistoryBatchResult {
  const result: HistoryBatchResult = { stored: 0, duplicates: 0, autoBackfillId: null };
  store.sqlite
    .transaction(() => {
      let first: number | null = null;
      for (const message of messages) {
        const rowid = (message.type === "ciphertext" ? null : replaceCiphertext(store, message)) ?? insertMessage(store, message, h.now);
        if (rowid === null) {
          result.duplicates++;
          continue;
        }
        first ??= rowid;
        result.stored++;
        const media = message.media ? h.mediaOf(message) : null;
        if (media) insertMedia(store, mediaRowOf(message, rowid, media), h.now);
      }
      if (first !== null && historyWebhooks(store, accountId).length) {
        result.autoBackfillId = touchAutoBackfill(store, accountId, first - 1, h.autoBackfill.planAfter, h.autoBackfill.ratePerS, h.now);
      }
    })
    .immediate();
  return result;
}

function mediaRowOf(message: Message, messageRowid: number, status: MediaStatus) {
  const m = message.media!;
  return { accountId: message.accountId, messageRowid, status, mimeType: m.mime_type, fileName: m.file_name, fileSize: m.file_size };
}

/** An event of an account that is no message (account.status, message.status). */
export interface AccountEvent {
  event: EventType;
  accountId: string;
  /** Its stream: per-chat order puts it behind what came before in the same stream. */
  chatKey: string;
  data: unknown;
  priority: number;
}

/**
 * Queues the event for every webhook that subscribes to it for this account; returns how
 * many. Call inside the transaction of the change it reports (if any), so one never
 * commits without the other.
 */
export function queueAccountEvent(store: Store, e: AccountEvent, now: number): number {
  let queued = 0;
  for (const w of allWebhookTargets(store)) {
    if (!subscribes(w, e.event, e.accountId)) continue;
    enqueue(store.sqlite, { webhookId: w.id, ordering: w.ordering, event: e.event, accountId: e.accountId, chatKey: e.chatKey, messageRowid: null, data: e.data, priority: e.priority }, now);
    queued++;
  }
  return queued;
}

/** One event for one webhook, committed on its own (its sequence number and row together). */
export function queueEvent(store: Store, input: EnqueueInput): { id: string; seq: number } {
  return store.sqlite.transaction(() => enqueue(store.sqlite, input)).immediate();
}
