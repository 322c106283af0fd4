// The HTTP surface: one Elysia app with auth, body limits, the error catalogue and the
// OpenAPI document. Routes live in routes/, one file per resource; they get what they
// need through AppDeps (deps.ts), which wiring/api.ts fills in.
import { openapi } from "@elysiajs/openapi";
import { Elysia } from "elysia";
import { ApiError } from "../errors.ts";
import { routeGuard } from "./auth.ts";
import { checkDeclaredLength, parseJsonBody } from "./body.ts";
import type { AppDeps } from "./deps.ts";
import { toErrorResponse } from "./errors.ts";
import { accountRoutes } from "./routes/accounts.ts";
import { adminPage } from "./routes/adminPage.ts";
import { apiKeyRoutes } from "./routes/apiKeys.ts";
import { backfillRoutes } from "./routes/backfills.ts";
import { chatRoutes } from "./routes/chats.ts";
import { deliveryRoutes } from "./routes/deliveries.ts";
import { healthRoutes } from "./routes/health.ts";
import { mediaRoutes } from "./routes/media.ts";
import { metricsRoutes } from "./routes/metrics.ts";
import { backupRoutes } from "./routes/backups.ts";
import { statsRoutes } from "./routes/stats.ts";
import { refusedWhileFull, storageGuard } from "./storageGuard.ts";
import { documentAnswers, specResponder } from "./openapiAnswers.ts";
import { webhookRoutes } from "./routes/webhooks.ts";
import { SWAGGER_ASSET_BASE, swaggerAssets } from "./swaggerAssets.ts";


function routePattern(path: string): RegExp {
  const escaped = path.replace(/\/$/, "").replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\/:[^/]+/g, "/[^/]+").replace(/\/\*$/, "/.*");
  return new RegExp(`^${escaped}/?$`);
}

type SpecOperation = { requestBody?: { content?: Record<string, unknown> } };

/**
 * @elysiajs/openapi documents a request body only for parsers it knows by name; ours is a
 * function (the 1 MiB cap in body.ts), so every body came out empty in /swagger/json and
 * Swagger UI offered nothing to fill in. This puts each route's JSON schema back.
 */
function documentJsonBodies(spec: unknown, routes: { method: string; path: string; hooks: { body?: unknown } }[]): void {
  const paths = (spec as { paths?: Record<string, Record<string, SpecOperation>> } | null)?.paths;
  if (!paths) return;
  for (const route of routes) {
    const operation = paths[route.path.replace(/:([^/]+)/g, "{$1}")]?.[route.method.toLowerCase()];
    const body = operation?.requestBody;
    if (route.hooks.body && body && !Object.keys(body.content ?? {}).length) body.content = { "application/json": { schema: route.hooks.body } };
  }
}

export function createApp(deps: AppDeps) {
  const { store, log } = deps;
  const guard = routeGuard(store, deps.config.metricsPublic);
  const storage = storageGuard(() => deps.storage.problem());
  const specResponse = specResponder();
  // standardHostname: false makes the router find the path right after "http://", for a
  // host of any length (its default skips 11 characters and so misread `Host: x`).
  const app = new Elysia({ normalize: false, handler: { standardHostname: false } })
    .onRequest(({ request }) => checkDeclaredLength(request))
    // Both run once the route is matched: parse for requests with a body (so the body of a
    // caller without a key is never read), transform for every request.
    .onParse(({ route, request }) => {
      guard(route, request);
      return parseJsonBody(request);
    })
    .onTransform(({ route, request }) => {
      guard(route, request);
      storage(route, request);
    })
    .onError(({ code, error, request, path }) => {
      if (code === "NOT_FOUND") {
        const allowed = allowedMethods(path);
        if (allowed.length && !allowed.includes(request.method)) {
          const res = toErrorResponse(new ApiError("method_not_allowed"), code, log, request, path);
          res.headers.set("allow", allowed.join(", "));
          return res;
        }
      }
      return toErrorResponse(error, code, log, request, path);
    })
    .onAfterHandle(({ route, request, response }) => {
      if (route !== "/swagger/json") return;
      documentJsonBodies(response, app.routes);
      documentAnswers(response, app.routes, refusedWhileFull);
      return specResponse(response, request);
    })
    .use(
      openapi({
        path: "/swagger",
        specPath: "/swagger/json",
        provider: "swagger-ui",
        swagger: {
          theme: `${SWAGGER_ASSET_BASE}/swagger-ui.css`,
          cdn: `${SWAGGER_ASSET_BASE}/swagger-ui-bundle.js`,
          // Absolute: the plugin's relative default breaks the page when opened as /swagger/.
          // (Its option type omits `url`, but the value reaches Swagger UI unchanged.)
          ...{ url: "/swagger/json" },
          persistAuthorization: true,
          autoDarkMode: false,
        },
        // staticFile: paths with a dot (…/qr.png) are not static files here; document them.
        exclude: { paths: [/^\/swagger/], staticFile: false },
        documentation: {
          info: {
            title: "wahook",
            version: deps.version,
            description:
              "WhatsApp → webhooks gateway. Click **Authorize** and paste your API key (printed once at first start, or the value of WAHOOK_API_KEY).",
          },
          tags: [
            { name: "accounts", description: "Linked WhatsApp numbers: pairing by QR or code, state, logout." },
            { name: "webhooks", description: "Endpoints that receive the events, and their secrets." },
            { name: "deliveries", description: "What was sent to a webhook, every attempt, replays and dead letters." },
            { name: "backfills", description: "Stored history sent to webhooks as a paced, ordered, resumable stream, with progress." },
            { name: "chats", description: "Chats and stored messages of an account: what a backfill would send." },
            { name: "media", description: "Media files linked from payloads (`file_url`)." },
            { name: "api-keys", description: "Keys for this API: `admin` to change, `read` to look." },
            { name: "backups", description: "Archives of the whole data folder (database and media), locally and in S3; restore with `wahook restore`." },
            { name: "system", description: "Health, storage, metrics and documentation." },
          ],
          components: {
            securitySchemes: {
              bearer: { type: "http", scheme: "bearer", description: "An API key: `Authorization: Bearer <key>` (or `X-Api-Key: <key>`)." },
            },
          },
          security: [{ bearer: [] }],
        },
      }),
    )
    .use(swaggerAssets)
    .use(adminPage)
    .use(healthRoutes(deps))
    .use(apiKeyRoutes(deps))
    .use(accountRoutes(deps))
    .use(webhookRoutes(deps))
    .use(deliveryRoutes(deps))
    .use(backfillRoutes(deps))
    .use(chatRoutes(deps))
    .use(mediaRoutes(deps))
    .use(metricsRoutes(deps))
    .use(backupRoutes(deps))
    .use(statsRoutes(deps));

  const patterns = () => app.routes.map((r) => ({ method: r.method, re: routePattern(r.path) }));
  let compiled: ReturnType<typeof patterns> | null = null;
  function allowedMethods(path: string): string[] {
    compiled ??= patterns();
    return [...new Set(compiled.filter((r) => r.re.test(path)).map((r) => r.method))];
  }
  return app;
}

export type App = ReturnType<typeof createApp>;
