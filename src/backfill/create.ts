// An admin's backfill: which webhooks it goes to (those named, each of which must take this
// account's messages, or every webhook that does), which chats (each must have stored
// messages), and the job row with its older-message requests.
import { DEFAULT_BACKFILL_RATE_PER_S } from "../domain.ts";
import { ApiError } from "../errors.ts";
import { insertBackfill, type BackfillRow } from "../store/backfills.ts";
import { chatIdsOf, knownChats } from "../store/chats.ts";
import type { Store } from "../store/db.ts";
import { allWebhooks, takesMessages } from "../store/webhooks.ts";

export interface BackfillRequest {
  webhookIds?: string[];
  chatIds?: string[];
  /** Message time bounds, ms, inclusive. */
  since?: number;
  until?: number;
  olderPerChat?: number;
  ratePerS?: number;
  redeliver?: boolean;
}

/** How many unknown chats an error names before it only counts the rest. */
const NAMED_CHATS = 5;

/** Creates the job in `planning`; refuses (ApiError) webhooks and chats it could not serve. */
export function createBackfill(store: Store, accountId: string, request: BackfillRequest): BackfillRow {
  const webhookIds = webhooksFor(store, accountId, request.webhookIds);
  if (request.chatIds) mustKnowChats(store, accountId, request.chatIds);
  const toSeconds = (ms: number | undefined) => (ms === undefined ? null : Math.floor(ms / 1000));
  return insertBackfill(
    store,
    {
      accountId,
      webhookIds,
      chatIds: request.chatIds ?? null,
      since: toSeconds(request.since),
      until: toSeconds(request.until),
      olderPerChat: request.olderPerChat ?? null,
      ratePerS: request.ratePerS ?? DEFAULT_BACKFILL_RATE_PER_S,
      redeliver: request.redeliver ?? false,
    },
    request.olderPerChat ? (request.chatIds ?? chatIdsOf(store, accountId)) : [],
  );
}

function webhooksFor(store: Store, accountId: string, named: string[] | undefined): string[] {
  const hooks = allWebhooks(store);
  if (!named) {
    const taking = hooks.filter((w) => takesMessages(w, accountId)).map((w) => w.id);
    if (!taking.length) throw new ApiError("no_webhook");
    return taking;
  }
  const byId = new Map(hooks.map((w) => [w.id, w]));
  const missing = named.filter((id) => !byId.has(id));
  if (missing.length) {
    throw new ApiError("unknown_webhook", `No webhook ${missing.join(", ")}; see GET /v1/webhooks.`, missing.map((id) => ({ field: "body.webhook_ids", value: id })));
  }
  const refusing = named.filter((id) => !takesMessages(byId.get(id)!, accountId));
  if (refusing.length) {
    const message = `Webhook ${refusing.join(", ")} takes neither message.received nor message.sent of account ${accountId} (see its events and account_ids).`;
    throw new ApiError("unknown_webhook", message, refusing.map((id) => ({ field: "body.webhook_ids", value: id })));
  }
  return named;
}

function mustKnowChats(store: Store, accountId: string, chatIds: string[]): void {
  const known = knownChats(store, accountId, chatIds);
  const unknown = chatIds.filter((c) => !known.has(c));
  if (!unknown.length) return;
  const more = unknown.length > NAMED_CHATS ? ` and ${unknown.length - NAMED_CHATS} more` : "";
  throw new ApiError(
    "unknown_chat",
    `No stored messages in chat ${unknown.slice(0, NAMED_CHATS).join(", ")}${more} for account ${accountId}; see GET /v1/accounts/${accountId}/chats.`,
    unknown.map((c) => ({ field: "body.chat_ids", value: c })),
  );
}
