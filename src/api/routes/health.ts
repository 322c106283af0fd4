import { Elysia } from "elysia";
import { checkReadable } from "../../store/db.ts";
import type { AppDeps } from "../deps.ts";
import { Health } from "../schemas.ts";

export function healthRoutes({ store, version, startedAt, storage }: AppDeps) {
  return new Elysia({ name: "health" }).get(
    "/health",
    ({ set }) => {
      let database: "ok" | "error" | "full" = "ok";
      let reason: string | undefined;
      try {
        checkReadable(store);
      } catch (error) {
        database = "error";
        reason = `the database cannot be read: ${(error as Error).message}`;
      }
      const full = database === "ok" ? storage.problem() : null;
      if (full) {
        database = "full";
        reason = full.reason;
      }
      if (database !== "ok") set.status = 503;
      return {
        status: database === "ok" ? ("ok" as const) : ("degraded" as const),
        version,
        uptime_s: Math.round((Date.now() - startedAt) / 100) / 10,
        database,
        ...(reason ? { reason } : {}),
      };
    },
    {
      response: { 200: Health, 503: Health },
      detail: {
        summary: "Liveness and database check (no API key needed)",
        description: "503 `degraded` when the database cannot be read (`error`) or its disk is full (`full`: writes fail, WhatsApp's receipts are held, nothing is lost; it turns `ok` by itself once space is freed); `reason` says why.",
        tags: ["system"],
        security: [],
      },
    },
  );
}
