// Routes name their resource in the path; a missing one answers 404 `not_found` saying
// which, the same way on every route.
import { ApiError } from "../errors.ts";
import { getAccount, type AccountRow } from "../store/accounts.ts";
import { getKey, type ApiKeyRow } from "../store/apiKeys.ts";
import type { Store } from "../store/db.ts";
import { getDelivery } from "../store/deliveries.ts";
import { getWebhook, type WebhookRow } from "../store/webhooks.ts";

function orNotFound<T>(row: T | null | undefined, message: string): T {
  if (row === null || row === undefined) throw new ApiError("not_found", message);
  return row;
}

export const accountOr404 = (store: Store, id: string): AccountRow => orNotFound(getAccount(store, id), `No account ${id}.`);

export const webhookOr404 = (store: Store, id: string): WebhookRow => orNotFound(getWebhook(store, id), `No webhook ${id}.`);

export const apiKeyOr404 = (store: Store, id: string): ApiKeyRow => orNotFound(getKey(store, id), `No API key ${id}.`);

/** A delivery of this webhook, with its attempts. */
export const deliveryOr404 = (store: Store, webhookId: string, id: string) => orNotFound(getDelivery(store, webhookId, id), `No delivery ${id} for webhook ${webhookId}.`);
