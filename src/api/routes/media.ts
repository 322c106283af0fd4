// Media downloads for receivers: no API key, the signed expiring link is the permission.
import { Elysia, t } from "elysia";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ApiError } from "../../errors.ts";
import { verifyMediaToken } from "../../mediaToken.ts";
import { getMedia } from "../../store/media.ts";
import type { AppDeps } from "../deps.ts";
import { ErrorBody, errorResponses } from "../schemas.ts";

/** RFC 6266 filename parameters: an ASCII fallback and the exact UTF-8 name. */
function disposition(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, "_");
  return `inline; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

export function mediaRoutes({ store, media }: AppDeps) {
  return new Elysia({ name: "media" }).get(
    "/v1/media/:token",
    ({ params }) => {
      const check = verifyMediaToken(media.key, params.token, Date.now());
      if (!check.ok) throw new ApiError(check.reason === "expired" ? "media_link_expired" : "media_link_invalid");
      const row = getMedia(store, check.mediaId);
      const file = row?.status === "ready" && row.path ? join(media.dir, row.path) : null;
      if (!row || !file || !existsSync(file)) throw new ApiError("not_found", "This media is no longer stored.");
      const headers: Record<string, string> = {
        "content-type": row.mime_type ?? "application/octet-stream",
        "cache-control": "private, max-age=3600",
        "x-content-type-options": "nosniff",
      };
      if (row.file_name) headers["content-disposition"] = disposition(row.file_name);
      return new Response(Bun.file(file), { headers });
    },
    {
      params: t.Object({
        token: t.String({
          description: "From `message.file_url`.",
          examples: ["med_06H0TKA0J5W8Q2M4N6P8R0T2V4.1796124000.q6x0bO4nF2cZqk5JmQ8Yw1sVh3Xr7Lp9Tt2Ue6Dg0Ai"],
        }),
      }),
      response: { 200: t.Any({ description: "The file, with its content type and name." }), ...errorResponses, 410: ErrorBody },
      detail: {
        summary: "Download a message's media (the link in `file_url`; no API key, it expires)",
        tags: ["media"],
        security: [],
        responses: {
          200: { description: "The file, with its content type and name.", content: { "*/*": { schema: { type: "string", format: "binary" } } } },
          410: { description: "The link has expired (`media_link_expired`); links last WAHOOK_MEDIA_TTL_DAYS days." },
        },
      },
    },
  );
}
