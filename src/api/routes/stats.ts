// How big the store is and what fills it, and whether its disk takes writes.
import { Elysia } from "elysia";
import type { AppDeps } from "../deps.ts";
import { StorageStats } from "../backupSchemas.ts";
import { errorResponses } from "../schemas.ts";

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function statsRoutes({ storage, config }: AppDeps) {
  return new Elysia({ name: "stats" }).get(
    "/v1/stats",
    async () => {
      const s = await storage.stats();
      return {
        ...s,
        storage: { ...s.storage, since: iso(s.storage.since) },
        media: { ...s.media, measured_at: iso(s.media.measured_at)! },
        retention: {
          delivered_days: config.retentionDays,
          dead_letter_days: config.deadLetterDays,
          message_days: config.messageRetentionDays,
          media_ttl_days: config.mediaTtlMs / 86_400_000,
        },
      };
    },
    {
      response: { 200: StorageStats, ...errorResponses },
      detail: { summary: "Storage: database and media sizes, free disk, rows per table family, retention settings", tags: ["system"] },
    },
  );
}
