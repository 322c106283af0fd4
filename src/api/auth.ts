// Who may call which route. The decision is made on the route Elysia actually matched
// (its pattern, e.g. "/v1/webhooks/:id"), never on a URL parsed a second time: a second
// parser that disagrees with the router was how `Host: x` + `/aa/v1/…` once got in.
// Deny by default: every route needs a key unless it is listed in PUBLIC_ROUTES.
import { ApiError } from "../errors.ts";
import type { Store } from "../store/db.ts";
import { findKey } from "../store/apiKeys.ts";
import { SWAGGER_ASSET_BASE } from "./swaggerAssets.ts";

const READ_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * The routes anyone may call, by matched pattern. The admin page (`/`), Swagger UI and the
 * site icon hold no data; the pages ask the API with the key the admin types in. Media links carry their own permission
 * (a signed, expiring token); /metrics is public only when the operator says so.
 */
export const PUBLIC_ROUTES = ["/", "/favicon.ico", "/health", "/swagger", "/swagger/json", `${SWAGGER_ASSET_BASE}/:name`, "/v1/media/:token"] as const;
const METRICS_ROUTE = "/metrics";

export function isPublicRoute(route: string, metricsPublic: boolean): boolean {
  return (PUBLIC_ROUTES as readonly string[]).includes(route) || (metricsPublic && route === METRICS_ROUTE);
}

export function presentedKey(headers: Headers): string | null {
  const auth = headers.get("authorization");
  if (auth) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    return m?.[1] ?? null;
  }
  return headers.get("x-api-key")?.trim() || null;
}

export function authenticate(store: Store, request: Request): void {
  const key = presentedKey(request.headers);
  const row = key ? findKey(store, key) : null;
  if (!row) throw new ApiError("unauthorized", key ? "This API key is unknown or revoked." : undefined);
  if (row.scope !== "admin" && !READ_METHODS.has(request.method)) throw new ApiError("forbidden");
}

/**
 * The check each request passes once, as soon as its route is known (before its body is
 * parsed, so a caller without a key learns nothing about the schemas). `route` undefined
 * means Elysia did not tell us which route matched: refused, never waved through.
 */
export function routeGuard(store: Store, metricsPublic: boolean) {
  const passed = new WeakSet<Request>();
  return (route: string | undefined, request: Request): void => {
    if (passed.has(request)) return;
    if (route === undefined || !isPublicRoute(route, metricsPublic)) authenticate(store, request);
    passed.add(request);
  };
}
