// Backfills of one account: create (stored history → webhooks, paced), list, get with
// progress, change the pace, pause, resume, cancel.
import { Elysia } from "elysia";
import { progressOf } from "../../backfill/progress.ts";
import { ApiError } from "../../errors.ts";
import { getAccount } from "../../store/accounts.ts";
import {
  backfillOutcomes,
  chatIdsOf,
  getBackfill,
  insertBackfill,
  listBackfills,
  olderRows,
  transitionBackfill,
  updateBackfill,
  type BackfillRow,
} from "../../store/backfills.ts";
import { knownChats } from "../../store/chats.ts";
import { allWebhooks, takesMessagesOf, type WebhookRow } from "../../store/webhooks.ts";
import type { AppDeps } from "../app.ts";
import { Backfill, BackfillParams, CreateBackfill, PatchBackfill } from "../historySchemas.ts";
import { DEFAULT_LIMIT, decodeCursor, pageOf } from "../pagination.ts";
import { IdParams, PageQuery, errorResponses, page } from "../schemas.ts";
import { parseRange } from "../time.ts";
import { backfillView } from "../views.ts";

const tags = ["backfills"];
export const DEFAULT_BACKFILL_RATE = 20;

const takesMessages = (w: WebhookRow, accountId: string) => takesMessagesOf(w.events, w.accountIds, accountId);

export function backfillRoutes({ store, backfills }: AppDeps) {
  const { db, sqlite } = store;

  function mustAccount(id: string) {
    const row = getAccount(db, id);
    if (!row) throw new ApiError("not_found", `No account ${id}.`);
    return row;
  }

  function mustGet(accountId: string, id: string): BackfillRow {
    mustAccount(accountId);
    const row = getBackfill(sqlite, id);
    if (!row || row.account_id !== accountId) throw new ApiError("not_found", `No backfill ${id} for account ${accountId}.`);
    return row;
  }

  const view = (row: BackfillRow) => backfillView(row, progressOf(row, backfillOutcomes(sqlite, row.id)), row.older_per_chat ? olderRows(sqlite, row.id) : null);

  function change(accountId: string, id: string, from: BackfillRow["state"][], to: BackfillRow["state"], verb: string) {
    const row = mustGet(accountId, id);
    const moved = transitionBackfill(sqlite, row.id, from, to);
    if (!moved) throw new ApiError("backfill_state", `A ${row.state} backfill cannot be ${verb}; only a ${from.join(" or ")} one can.`);
    backfills.wake();
    return view(moved);
  }

  return new Elysia({ name: "backfills", prefix: "/v1/accounts/:id/backfills" })
    .post(
      "/",
      ({ params, body, set }) => {
        const account = mustAccount(params.id);
        const { since, until } = parseRange(body.since, body.until, "body");
        const hooks = allWebhooks(db);
        let webhookIds: string[];
        if (body.webhook_ids) {
          const byId = new Map(hooks.map((w) => [w.id, w]));
          const missing = body.webhook_ids.filter((id) => !byId.has(id));
          if (missing.length) {
            throw new ApiError("unknown_webhook", `No webhook ${missing.join(", ")}; see GET /v1/webhooks.`, missing.map((id) => ({ field: "body.webhook_ids", value: id })));
          }
          const refusing = body.webhook_ids.filter((id) => !takesMessages(byId.get(id)!, account.id));
          if (refusing.length) {
            const message = `Webhook ${refusing.join(", ")} takes neither message.received nor message.sent of account ${account.id} (see its events and account_ids).`;
            throw new ApiError("unknown_webhook", message, refusing.map((id) => ({ field: "body.webhook_ids", value: id })));
          }
          webhookIds = body.webhook_ids;
        } else {
          webhookIds = hooks.filter((w) => takesMessages(w, account.id)).map((w) => w.id);
          if (!webhookIds.length) throw new ApiError("no_webhook");
        }
        if (body.chat_ids) {
          const known = knownChats(sqlite, account.id, body.chat_ids);
          const unknown = body.chat_ids.filter((c) => !known.has(c));
          if (unknown.length) {
            throw new ApiError(
              "unknown_chat",
              `No stored messages in chat ${unknown.slice(0, 5).join(", ")}${unknown.length > 5 ? ` and ${unknown.length - 5} more` : ""} for account ${account.id}; see GET /v1/accounts/${account.id}/chats.`,
              unknown.map((c) => ({ field: "body.chat_ids", value: c })),
            );
          }
        }
        const row = insertBackfill(
          sqlite,
          {
            accountId: account.id,
            webhookIds,
            chatIds: body.chat_ids ?? null,
            since: since === undefined ? null : Math.floor(since / 1000),
            until: until === undefined ? null : Math.floor(until / 1000),
            olderPerChat: body.older_per_chat ?? null,
            ratePerS: body.rate_per_s ?? DEFAULT_BACKFILL_RATE,
            redeliver: body.redeliver ?? false,
          },
          body.older_per_chat ? (body.chat_ids ?? chatIdsOf(sqlite, account.id)) : [],
        );
        backfills.wake();
        set.status = 201;
        return view(row);
      },
      {
        params: IdParams,
        body: CreateBackfill,
        response: { 201: Backfill, ...errorResponses },
        detail: {
          summary: "Send stored messages (history) to webhooks as a paced, ordered, resumable stream",
          description:
            "Messages go in time order (so each chat in order, many chats at once), marked `history: true`, at `rate_per_s` per webhook and after live traffic. " +
            "A message a webhook already got is skipped unless `redeliver`. Follow `progress` with GET.",
          tags,
        },
      },
    )
    .get(
      "/",
      ({ params, query }) => {
        mustAccount(params.id);
        const limit = query.limit ?? DEFAULT_LIMIT;
        return pageOf(listBackfills(sqlite, params.id, limit + 1, decodeCursor(query.cursor)), limit, view);
      },
      { params: IdParams, query: PageQuery, response: { 200: page(Backfill), ...errorResponses }, detail: { summary: "List backfills, newest first", tags } },
    )
    .get("/:backfill_id", ({ params }) => view(mustGet(params.id, params.backfill_id)), {
      params: BackfillParams,
      response: { 200: Backfill, ...errorResponses },
      detail: { summary: "One backfill with its progress (total, delivered, percent, ETA)", tags },
    })
    .patch(
      "/:backfill_id",
      ({ params, body }) => {
        const row = mustGet(params.id, params.backfill_id);
        if (!["planning", "running", "paused"].includes(row.state)) throw new ApiError("backfill_state", `A ${row.state} backfill has ended; its pace cannot change.`);
        const updated = updateBackfill(sqlite, row.id, { rate_per_s: body.rate_per_s })!;
        backfills.wake();
        return view(updated);
      },
      { params: BackfillParams, body: PatchBackfill, response: { 200: Backfill, ...errorResponses }, detail: { summary: "Change the pace of a backfill", tags } },
    )
    .post("/:backfill_id/pause", ({ params }) => change(params.id, params.backfill_id, ["planning", "running"], "paused", "paused"), {
      params: BackfillParams,
      response: { 200: Backfill, ...errorResponses },
      detail: { summary: "Pause: nothing more is queued (what is queued still goes); resume continues where it stopped", tags },
    })
    .post(
      "/:backfill_id/resume",
      ({ params }) => {
        const row = mustGet(params.id, params.backfill_id);
        // A job paused before it finished planning plans again.
        return change(params.id, row.id, ["paused"], row.started_at === null ? "planning" : "running", "resumed");
      },
      { params: BackfillParams, response: { 200: Backfill, ...errorResponses }, detail: { summary: "Resume a paused backfill", tags } },
    )
    .post(
      "/:backfill_id/cancel",
      ({ params }) => {
        const row = mustGet(params.id, params.backfill_id);
        const cancelled = backfills.cancel(row.id);
        if (!cancelled) throw new ApiError("backfill_state", `A ${row.state} backfill has ended already.`);
        return view(cancelled);
      },
      {
        params: BackfillParams,
        response: { 200: Backfill, ...errorResponses },
        detail: { summary: "Cancel: nothing more is queued; the few rows already queued are still delivered", tags },
      },
    );
}
