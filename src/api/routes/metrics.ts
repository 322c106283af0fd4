import { Elysia, t } from "elysia";
import type { AppDeps } from "../deps.ts";
import { errorResponses } from "../schemas.ts";

export function metricsRoutes({ delivery }: AppDeps) {
  return new Elysia({ name: "metrics" }).get(
    "/metrics",
    ({ set }) => {
      set.headers["content-type"] = "text/plain; version=0.0.4; charset=utf-8";
      return delivery.metrics();
    },
    {
      response: {
        200: t.String({
          description: "Prometheus text format.",
          examples: ['# TYPE wahook_deliveries_total counter\nwahook_deliveries_total{webhook_id="wh_06H0TK2F3M4PQ9QXCGMARXVFNB",outcome="delivered"} 1520\n'],
        }),
        ...errorResponses,
      },
      detail: {
        summary: "Prometheus metrics (API key needed unless WAHOOK_METRICS_PUBLIC=true)",
        description:
          "wahook_deliveries_total{webhook_id,outcome}, wahook_delivery_attempt_duration_seconds (histogram), wahook_queue_depth{webhook_id,status}, wahook_queue_oldest_pending_age_seconds{webhook_id}, wahook_messages_ingested_total{account_id}.",
        tags: ["system"],
      },
    },
  );
}
