// Message → rows. One transaction stores the message and one outbox row per matching
// webhook; only after it commits is anyone told (the worker is woken at once, so live
// latency does not wait for a timer). A duplicate message changes nothing.
import { triggerOf, type EventType, type Message, type Ordering } from "../domain.ts";
import type { Store } from "../store/db.ts";
import { insertMedia } from "../store/media.ts";
import { insertMessage, rememberMessage, replaceCiphertext } from "../store/messages.ts";
import { enqueue, makeDueAt, unsentRowOf } from "../store/outbox.ts";
import { allWebhookTargets, type AccountTarget } from "../store/webhooks.ts";

export interface IngestDeps {
  store: Store;
  /** Media handling: larger files are not downloaded; others hold their deliveries until downloaded. */
  media?: { maxBytes: number; holdMs: number; onQueued(): void };
  /**
   * How long a `ciphertext` placeholder is held for its content (WhatsApp's retry), in ms;
   * 0 sends it at once. Its chat waits with it (per-chat order).
   */
  decryptGraceMs?: number;
  /** Wakes the delivery worker; called after the commit. */
  wake(): void;
  onIngested?(message: Message, enqueued: number): void;
  /**
   * Runs `fn` when the transaction this ingest ran in commits, if the caller can tell
   * (the group commit of live messages); returns false otherwise.
   */
  whenCommitted?(fn: () => void): boolean;
}

export interface IngestResult {
  stored: boolean;
  enqueued: number;
}

/** Live messages go first; history and backfill traffic yields to them. */
export const PRIORITY_LIVE = 0;
export const PRIORITY_HISTORY = 1;

function matches(w: AccountTarget, event: string, message: Message): boolean {
  // History is never sent at once: backfills (automatic ones for `include_history`) pace it.
  if (message.history) return false;
  return w.events.includes(event) && (w.accountIds === null || w.accountIds.includes(message.accountId));
}

/**
 * Stores a message and queues it for every webhook that wants it. `events` defaults to the
 * message's trigger (`message.received` / `message.sent`).
 */
export function ingestMessage(deps: IngestDeps, message: Message, events: EventType[] = [triggerOf(message.direction)]): IngestResult {
  const { sqlite } = deps.store;
  let rowid: number | null = null;
  const result = sqlite.transaction((): IngestResult => {
    // The content of a message stored so far as its placeholder takes the placeholder's row.
    rowid = message.type === "ciphertext" ? null : replaceCiphertext(sqlite, message);
    const replacing = rowid !== null;
    rowid ??= insertMessage(sqlite, message);
    if (rowid === null) return { stored: false, enqueued: 0 };
    const now = Date.now();
    let availableAt = message.type === "ciphertext" ? now + (deps.decryptGraceMs ?? 0) : now;
    if (message.media && deps.media) {
      const tooLarge = message.media.file_size !== null && message.media.file_size > deps.media.maxBytes;
      insertMedia(
        sqlite,
        {
          accountId: message.accountId,
          messageRowid: rowid,
          status: tooLarge ? "too_large" : "pending",
          mimeType: message.media.mime_type,
          fileName: message.media.file_name,
          fileSize: message.media.file_size,
        },
        now,
      );
      // Held until the download ends (it releases them) or this deadline passes: a stuck
      // download delays only its own chat, and never forever.
      if (!tooLarge) availableAt = now + deps.media.holdMs;
    }
    const webhooks = allWebhookTargets(sqlite);
    let enqueued = 0;
    for (const event of events) {
      for (const w of webhooks) {
        if (!matches(w, event, message)) continue;
        // The placeholder's row, not sent yet, now sends the content (payloads are built
        // from the stored message); one already sent gets this row after it, same message.id.
        const unsent = replacing ? unsentRowOf(sqlite, rowid, w.id, event) : null;
        if (unsent) {
          makeDueAt(sqlite, unsent, availableAt);
          enqueued++;
          continue;
        }
        enqueue(sqlite, {
          webhookId: w.id,
          ordering: w.ordering,
          event,
          accountId: message.accountId,
          chatKey: message.chatId,
          messageRowid: rowid,
          data: null,
          priority: message.history ? PRIORITY_HISTORY : PRIORITY_LIVE,
          availableAt,
        });
        enqueued++;
      }
    }
    return { stored: true, enqueued };
  }).immediate();
  if (result.stored) deps.onIngested?.(message, result.enqueued);
  // The worker reads it back once per queued row: from memory, once it is committed.
  if (rowid !== null && result.enqueued > 0) {
    const stored = rowid;
    deps.whenCommitted?.(() => rememberMessage(sqlite, stored, message, result.enqueued));
  }
  if (result.stored && message.media) deps.media?.onQueued();
  if (result.enqueued > 0) deps.wake();
  return result;
}

/**
 * `webhook.test` through the same queue, signing and worker as real events. Returns the
 * outbox row's id (the `webhook-id` the receiver will see).
 */
export function enqueueTestEvent(deps: IngestDeps, webhookId: string, ordering: Ordering, message: Message): string {
  const { sqlite } = deps.store;
  const { id } = sqlite
    .transaction(() =>
      enqueue(sqlite, {
        webhookId,
        ordering,
        event: "webhook.test",
        accountId: null,
        chatKey: message.chatId,
        messageRowid: null,
        data: message,
        priority: PRIORITY_LIVE,
      }),
    )
    .immediate();
  deps.wake();
  return id;
}
