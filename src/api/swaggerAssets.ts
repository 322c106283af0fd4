// Swagger UI's files, embedded in the binary (`with { type: "file" }`), so /swagger works
// on a VPS that cannot reach a CDN; the script and CSS go out compressed. Also the site's
// icon, which browsers fetch from /favicon.ico for Swagger UI and the admin page alike.
import { Elysia } from "elysia";
import bundle from "swagger-ui-dist/swagger-ui-bundle.js" with { type: "file" };
import css from "swagger-ui-dist/swagger-ui.css" with { type: "file" };
import favicon from "swagger-ui-dist/favicon-32x32.png" with { type: "file" };
import icon from "./favicon.ico" with { type: "file" };
import { CompressedBody } from "./compress.ts";

const ASSETS: Record<string, { path: string; type: string; compress?: true }> = {
  "swagger-ui-bundle.js": { path: bundle, type: "text/javascript; charset=utf-8", compress: true },
  "swagger-ui.css": { path: css, type: "text/css; charset=utf-8", compress: true },
  "favicon-32x32.png": { path: favicon, type: "image/png" },
};
const compressed = new Map<string, CompressedBody>();

export const SWAGGER_ASSET_BASE = "/swagger/assets";

export const swaggerAssets = new Elysia({ name: "swagger-assets" }).get(
  `${SWAGGER_ASSET_BASE}/:name`,
  async ({ params, set, request }) => {
    const asset = ASSETS[params.name];
    if (!asset) {
      set.status = 404;
      return new Response("not found", { status: 404 });
    }
    const headers = { "content-type": asset.type, "cache-control": "public, max-age=86400" };
    if (!asset.compress) return new Response(Bun.file(asset.path), { headers });
    let body = compressed.get(params.name);
    if (!body) compressed.set(params.name, (body = new CompressedBody(new Uint8Array(await Bun.file(asset.path).arrayBuffer()))));
    return body.response(request, headers);
  },
  { detail: { hide: true } },
).get(
  "/favicon.ico",
  () => new Response(Bun.file(icon), { headers: { "content-type": "image/x-icon", "cache-control": "public, max-age=86400" } }),
  { detail: { hide: true } },
);
