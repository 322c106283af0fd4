import { Elysia, t } from "elysia";
import { ApiError } from "../../errors.ts";
import {
  changeWebhook,
  deleteWebhook,
  insertWebhook,
  listWebhooks,
  rotateWebhookSecret,
  setWebhookEnabled,
  type WebhookPatch,
  type WebhookRow,
} from "../../store/webhooks.ts";
import type { AppDeps } from "../deps.ts";
import { webhookOr404 } from "../notFound.ts";
import { DEFAULT_LIMIT, decodeCursor, pageOf } from "../pagination.ts";
import { CreateWebhook, IdParams, PageQuery, PatchWebhook, Webhook, WebhookWithSecret, errorResponses, page } from "../schemas.ts";
import { webhookView } from "../views.ts";

const tags = ["webhooks"];

type CreateBody = typeof CreateWebhook.static;
type PatchBody = typeof PatchWebhook.static;

/** API field names → row fields; only the fields present in the body. */
function toRow(body: PatchBody): WebhookPatch {
  const row: WebhookPatch = {};
  if (body.url !== undefined) row.url = body.url;
  if (body.events !== undefined) row.events = body.events;
  if (body.account_ids !== undefined) row.accountIds = body.account_ids;
  if (body.ordering !== undefined) row.ordering = body.ordering;
  if (body.format !== undefined) row.format = body.format;
  if (body.include_history !== undefined) row.includeHistory = body.include_history;
  if (body.max_concurrency !== undefined) row.maxConcurrency = body.max_concurrency;
  if (body.rate_limit_per_s !== undefined) row.rateLimitPerS = body.rate_limit_per_s;
  if (body.retry_schedule_s !== undefined) row.retrySchedule = body.retry_schedule_s?.map((s) => s * 1000) ?? null;
  if (body.description !== undefined) row.description = body.description;
  if (body.enabled !== undefined) {
    row.enabled = body.enabled;
    row.disabledReason = body.enabled ? null : "disabled by an admin";
    row.disabledAt = body.enabled ? null : Date.now();
  }
  return row;
}

export function webhookRoutes({ store, checkTarget, delivery }: AppDeps) {

  async function assertTarget(url: string): Promise<void> {
    const verdict = await checkTarget(url);
    if (!verdict.ok) throw new ApiError(verdict.code, verdict.message, [{ field: "body.url", message: verdict.message }]);
  }

  const withSecret = (row: WebhookRow) => ({ ...webhookView(row), secret: row.secret });

  return new Elysia({ name: "webhooks", prefix: "/v1/webhooks" })
    .post(
      "/",
      async ({ body, set }) => {
        await assertTarget(body.url);
        const row = insertWebhook(store, { ...toRow(body), url: body.url, events: body.events } as CreateBody & WebhookPatch & { url: string; events: string[] });
        set.status = 201;
        return withSecret(row);
      },
      {
        body: CreateWebhook,
        response: { 201: WebhookWithSecret, ...errorResponses },
        detail: { summary: "Create a webhook (its signing secret is shown only in this answer)", tags },
      },
    )
    .get(
      "/",
      ({ query }) => {
        const limit = query.limit ?? DEFAULT_LIMIT;
        return pageOf(listWebhooks(store, limit + 1, decodeCursor(query.cursor)), limit, (r) => webhookView(r));
      },
      { query: PageQuery, response: { 200: page(Webhook), ...errorResponses }, detail: { summary: "List webhooks", tags } },
    )
    .get("/:id", ({ params }) => webhookView(webhookOr404(store, params.id)), {
      params: IdParams,
      response: { 200: Webhook, ...errorResponses },
      detail: { summary: "Get a webhook", tags },
    })
    .patch(
      "/:id",
      async ({ params, body }) => {
        const before = webhookOr404(store, params.id);
        if (body.url !== undefined) await assertTarget(body.url);
        const row = changeWebhook(store, before.id, toRow(body));
        if (!row) throw new ApiError("not_found", `No webhook ${params.id}.`);
        delivery.wake();
        return webhookView(row);
      },
      {
        params: IdParams,
        body: PatchWebhook,
        response: { 200: Webhook, ...errorResponses },
        detail: { summary: "Change a webhook (takes effect at once, no restart)", tags },
      },
    )
    .delete(
      "/:id",
      ({ params, set }) => {
        if (!deleteWebhook(store, params.id)) throw new ApiError("not_found", `No webhook ${params.id}.`);
        set.status = 204;
        return null;
      },
      {
        params: IdParams,
        response: { 204: t.Null(), ...errorResponses },
        detail: { summary: "Delete a webhook and everything queued for it", tags },
      },
    )
    .post(
      "/:id/enable",
      ({ params }) => {
        webhookOr404(store, params.id);
        const row = setWebhookEnabled(store, params.id, true)!;
        delivery.wake();
        return webhookView(row);
      },
      { params: IdParams, response: { 200: Webhook, ...errorResponses }, detail: { summary: "Enable a webhook; queued events flow again", tags } },
    )
    .post(
      "/:id/disable",
      ({ params }) => {
        webhookOr404(store, params.id);
        return webhookView(setWebhookEnabled(store, params.id, false, "disabled by an admin")!);
      },
      {
        params: IdParams,
        response: { 200: Webhook, ...errorResponses },
        detail: { summary: "Disable a webhook; its events keep queuing until it is enabled", tags },
      },
    )
    .post(
      "/:id/rotate-secret",
      ({ params }) => {
        webhookOr404(store, params.id);
        return withSecret(rotateWebhookSecret(store, params.id)!);
      },
      {
        params: IdParams,
        response: { 200: WebhookWithSecret, ...errorResponses },
        detail: { summary: "New signing secret; the old one keeps signing alongside for 24 h", tags },
      },
    );
}
