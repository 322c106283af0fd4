import { Elysia } from "elysia";
import type { AppDeps } from "../app.ts";
import { Health } from "../schemas.ts";

export function healthRoutes({ store, version, startedAt }: AppDeps) {
  return new Elysia({ name: "health" }).get(
    "/health",
    ({ set }) => {
      let database: "ok" | "error" = "ok";
      try {
        store.sqlite.query("SELECT 1").get();
      } catch {
        database = "error";
      }
      if (database !== "ok") set.status = 503;
      return {
        status: database === "ok" ? ("ok" as const) : ("degraded" as const),
        version,
        uptime_s: Math.round((Date.now() - startedAt) / 100) / 10,
        database,
      };
    },
    {
      response: { 200: Health, 503: Health },
      detail: { summary: "Liveness and database check (no API key needed)", tags: ["system"], security: [] },
    },
  );
}
