// Backfills of one account: create (stored history → webhooks, paced), list, get with
// progress, change the pace, pause, resume, cancel.
import { Elysia } from "elysia";
import { pauseBackfill, resumeBackfill, setBackfillPace } from "../../backfill/control.ts";
import { createBackfill } from "../../backfill/create.ts";
import { backfillStatus } from "../../backfill/progress.ts";
import { ApiError } from "../../errors.ts";
import { getBackfill, listBackfills, type BackfillRow } from "../../store/backfills.ts";
import type { AppDeps } from "../deps.ts";
import { accountOr404 } from "../notFound.ts";
import { Backfill, BackfillParams, CreateBackfill, PatchBackfill } from "../historySchemas.ts";
import { DEFAULT_LIMIT, decodeCursor, pageOf } from "../pagination.ts";
import { IdParams, PageQuery, errorResponses, page } from "../schemas.ts";
import { parseRange } from "../time.ts";
import { backfillView } from "../views.ts";

const tags = ["backfills"];

export function backfillRoutes({ store, backfills }: AppDeps) {
  function mustGet(accountId: string, id: string): BackfillRow {
    accountOr404(store, accountId);
    const row = getBackfill(store, id);
    if (!row || row.account_id !== accountId) throw new ApiError("not_found", `No backfill ${id} for account ${accountId}.`);
    return row;
  }

  function view(row: BackfillRow) {
    const { progress, older } = backfillStatus(store, row);
    return backfillView(row, progress, older);
  }

  /** A job was created or moved: the runner looks at it now rather than at the next second. */
  const woken = (row: BackfillRow) => {
    backfills.wake();
    return view(row);
  };

  return new Elysia({ name: "backfills", prefix: "/v1/accounts/:id/backfills" })
    .post(
      "/",
      ({ params, body, set }) => {
        const account = accountOr404(store, params.id);
        const { since, until } = parseRange(body.since, body.until, "body");
        const row = createBackfill(store, account.id, {
          webhookIds: body.webhook_ids,
          chatIds: body.chat_ids,
          since,
          until,
          olderPerChat: body.older_per_chat,
          ratePerS: body.rate_per_s,
          redeliver: body.redeliver,
        });
        set.status = 201;
        return woken(row);
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
        accountOr404(store, params.id);
        const limit = query.limit ?? DEFAULT_LIMIT;
        return pageOf(listBackfills(store, params.id, limit + 1, decodeCursor(query.cursor)), limit, view);
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
      ({ params, body }) => woken(setBackfillPace(store, mustGet(params.id, params.backfill_id), body.rate_per_s)),
      { params: BackfillParams, body: PatchBackfill, response: { 200: Backfill, ...errorResponses }, detail: { summary: "Change the pace of a backfill", tags } },
    )
    .post("/:backfill_id/pause", ({ params }) => woken(pauseBackfill(store, mustGet(params.id, params.backfill_id))), {
      params: BackfillParams,
      response: { 200: Backfill, ...errorResponses },
      detail: { summary: "Pause: nothing more is queued (what is queued still goes); resume continues where it stopped", tags },
    })
    .post("/:backfill_id/resume", ({ params }) => woken(resumeBackfill(store, mustGet(params.id, params.backfill_id))), {
      params: BackfillParams,
      response: { 200: Backfill, ...errorResponses },
      detail: { summary: "Resume a paused backfill", tags },
    })
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
