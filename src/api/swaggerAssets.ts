// Swagger UI's files, embedded in the binary (`with { type: "file" }`), so /swagger works
// on a VPS that cannot reach a CDN.
import { Elysia } from "elysia";
import bundle from "swagger-ui-dist/swagger-ui-bundle.js" with { type: "file" };
import css from "swagger-ui-dist/swagger-ui.css" with { type: "file" };
import favicon from "swagger-ui-dist/favicon-32x32.png" with { type: "file" };

const ASSETS: Record<string, { path: string; type: string }> = {
  "swagger-ui-bundle.js": { path: bundle, type: "text/javascript; charset=utf-8" },
  "swagger-ui.css": { path: css, type: "text/css; charset=utf-8" },
  "favicon-32x32.png": { path: favicon, type: "image/png" },
};

export const SWAGGER_ASSET_BASE = "/swagger/assets";

export const swaggerAssets = new Elysia({ name: "swagger-assets" }).get(
  `${SWAGGER_ASSET_BASE}/:name`,
  ({ params, set }) => {
    const asset = ASSETS[params.name];
    if (!asset) {
      set.status = 404;
      return new Response("not found", { status: 404 });
    }
    return new Response(Bun.file(asset.path), {
      headers: { "content-type": asset.type, "cache-control": "public, max-age=86400" },
    });
  },
  { detail: { hide: true } },
);
