// Message → rows. One transaction stores the message and one outbox row per matching
// webhook (store/intake.ts); only after it commits is anyone told (the worker is woken at
// once, so live latency does not wait for a timer). A duplicate message changes nothing.
import { triggerOf, type EventType, type Message, type Ordering } from "../domain.ts";
import type { Store } from "../store/db.ts";
import { queueEvent, storeLiveMessage } from "../store/intake.ts";
import { rememberMessage } from "../store/messages.ts";
import { PRIORITY_LIVE } from "../store/outbox.ts";

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

/** Media larger than WAHOOK_MEDIA_MAX_BYTES is never downloaded. */
export const isTooLarge = (message: Message, maxBytes: number) => message.media?.file_size != null && message.media.file_size > maxBytes;

/**
 * Stores a message and queues it for every webhook that wants it. `events` defaults to the
 * message's trigger (`message.received` / `message.sent`).
 */
export function ingestMessage(deps: IngestDeps, message: Message, events: EventType[] = [triggerOf(message.direction)]): IngestResult {
  const now = Date.now();
  const tooLarge = deps.media !== undefined && isTooLarge(message, deps.media.maxBytes);
  let availableAt = message.type === "ciphertext" ? now + (deps.decryptGraceMs ?? 0) : now;
  // Held until the download ends (it releases them) or this deadline passes: a stuck
  // download delays only its own chat, and never forever.
  if (message.media && deps.media && !tooLarge) availableAt = now + deps.media.holdMs;
  const { rowid, enqueued } = storeLiveMessage(deps.store, message, {
    // History is never sent at once: backfills (automatic ones for `include_history`) pace it.
    events: message.history ? [] : events,
    media: deps.media ? (tooLarge ? "too_large" : "pending") : null,
    availableAt,
    priority: PRIORITY_LIVE,
    now,
  });
  const result: IngestResult = { stored: rowid !== null, enqueued };
  if (result.stored) deps.onIngested?.(message, enqueued);
  // The worker reads it back once per queued row: from memory, once it is committed.
  if (rowid !== null && enqueued > 0) deps.whenCommitted?.(() => rememberMessage(deps.store, rowid, message, enqueued));
  if (result.stored && message.media) deps.media?.onQueued();
  if (enqueued > 0) deps.wake();
  return result;
}

/**
 * `webhook.test` through the same queue, signing and worker as real events. Returns the
 * outbox row's id (the `webhook-id` the receiver will see).
 */
export function enqueueTestEvent(deps: IngestDeps, webhookId: string, ordering: Ordering, message: Message): string {
  const { id } = queueEvent(deps.store, {
    webhookId,
    ordering,
    event: "webhook.test",
    accountId: null,
    chatKey: message.chatId,
    messageRowid: null,
    data: message,
    priority: PRIORITY_LIVE,
  });
  deps.wake();
  return id;
}
