// The delivery log of one webhook: what was sent, every attempt, replays, dead letters,
// queue depth, and a test event through the real path.
import { Elysia } from "elysia";
import { ApiError } from "../../errors.ts";
import { listDeliveries, queueStats, replayDeliveries } from "../../store/deliveries.ts";
import type { AppDeps } from "../deps.ts";
import { deliveryOr404, webhookOr404 } from "../notFound.ts";
import { DEFAULT_LIMIT, decodeCursor, pageOf } from "../pagination.ts";
import {
  DeadLetterQuery,
  Delivery,
  DeliveryParams,
  DeliveryQuery,
  DeliveryWithAttempts,
  IdParams,
  QueueStats,
  ReplayResult,
  ReplaySince,
  TestEventResult,
  errorResponses,
  page,
} from "../schemas.ts";
import { parseRange } from "../time.ts";
import { attemptView, deliveryView, isoOrNull } from "../views.ts";

const tags = ["deliveries"];

export function deliveryRoutes({ store, delivery }: AppDeps) {

  return new Elysia({ name: "deliveries", prefix: "/v1/webhooks/:id" })
    .post(
      "/test",
      ({ params, set }) => {
        const hook = webhookOr404(store, params.id);
        const id = delivery.sendTest(hook.id, hook.ordering);
        set.status = 202;
        return { delivery_id: id, status: hook.enabled ? "pending" : "pending (webhook disabled: it is sent once enabled)" };
      },
      {
        params: IdParams,
        response: { 202: TestEventResult, ...errorResponses },
        detail: { summary: "Send a `webhook.test` event through the real queue, signing and retries", tags },
      },
    )
    .get(
      "/deliveries",
      ({ params, query }) => {
        webhookOr404(store, params.id);
        const limit = query.limit ?? DEFAULT_LIMIT;
        const { since, until } = parseRange(query.since, query.until, "query");
        const rows = listDeliveries(store, params.id, {
          status: query.status,
          chatKey: query.chat_id,
          since,
          until,
          before: decodeCursor(query.cursor),
          limit: limit + 1,
        });
        return pageOf(rows, limit, deliveryView);
      },
      {
        params: IdParams,
        query: DeliveryQuery,
        response: { 200: page(Delivery), ...errorResponses },
        detail: { summary: "List deliveries, newest first (filter by status, chat, time)", tags },
      },
    )
    .get(
      "/dead-letters",
      ({ params, query }) => {
        webhookOr404(store, params.id);
        const limit = query.limit ?? DEFAULT_LIMIT;
        const rows = listDeliveries(store, params.id, { status: "failed", before: decodeCursor(query.cursor), limit: limit + 1 });
        return pageOf(rows, limit, deliveryView);
      },
      {
        params: IdParams,
        query: DeadLetterQuery,
        response: { 200: page(Delivery), ...errorResponses },
        detail: { summary: "Dead letters: deliveries that ran out of retries (replay them once fixed)", tags },
      },
    )
    .get(
      "/deliveries/:delivery_id",
      ({ params }) => {
        webhookOr404(store, params.id);
        const found = deliveryOr404(store, params.id, params.delivery_id);
        return { ...deliveryView(found.row), attempt_log: found.attempts.map(attemptView) };
      },
      {
        params: DeliveryParams,
        response: { 200: DeliveryWithAttempts, ...errorResponses },
        detail: { summary: "One delivery with every attempt (status, timing, error, answer excerpt)", tags },
      },
    )
    .post(
      "/deliveries/:delivery_id/replay",
      ({ params, set }) => {
        const hook = webhookOr404(store, params.id);
        const found = deliveryOr404(store, hook.id, params.delivery_id);
        if (found.row.status === "in_flight") throw new ApiError("conflict", "This delivery is being attempted right now; replay it once the attempt ends.");
        const replayed = replayDeliveries(store, hook.id, hook.ordering, { id: params.delivery_id }, Date.now());
        delivery.wake();
        set.status = 202;
        return { replayed };
      },
      {
        params: DeliveryParams,
        response: { 202: ReplayResult, ...errorResponses },
        detail: { summary: "Send one delivery again, with the same `webhook-id`", tags },
      },
    )
    .post(
      "/replay",
      ({ params, body, set }) => {
        const hook = webhookOr404(store, params.id);
        const { since, until } = parseRange(body.since, body.until, "body");
        const replayed = replayDeliveries(store, hook.id, hook.ordering, { since: since!, until }, Date.now());
        delivery.wake();
        set.status = 202;
        return { replayed };
      },
      {
        params: IdParams,
        body: ReplaySince,
        response: { 202: ReplayResult, ...errorResponses },
        detail: { summary: "Send again everything queued since a time (same `webhook-id`s, per-chat order kept)", tags },
      },
    )
    .get(
      "/stats",
      ({ params }) => {
        const hook = webhookOr404(store, params.id);
        const s = queueStats(store, hook.id);
        const now = Date.now();
        return {
          pending: s.pending,
          in_flight: s.in_flight,
          delivered: s.delivered,
          failed: s.failed,
          oldest_pending_age_s: s.oldest_pending_created_at === null ? null : Math.max(0, now - s.oldest_pending_created_at) / 1000,
          paused_until: hook.pausedUntil && hook.pausedUntil > now ? isoOrNull(hook.pausedUntil) : null,
          failing_since: isoOrNull(hook.failingSince),
          enabled: hook.enabled,
          disabled_reason: hook.disabledReason,
        };
      },
      {
        params: IdParams,
        response: { 200: QueueStats, ...errorResponses },
        detail: { summary: "Queue depth and health of this webhook", tags },
      },
    );
}
