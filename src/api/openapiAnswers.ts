// What @elysiajs/openapi cannot say from a route's response schemas alone, put into
// /swagger/json so Swagger UI never shows an answer as "Undocumented" or mislabels it.
import { ERRORS, type ErrorCode } from "../errors.ts";
import { CompressedBody } from "./compress.ts";

/**
 * The error each status stands for in its example. Every error answer shares one schema,
 * whose own example is a 422; without these Swagger UI showed that 422 as the 401 too.
 */
const STATUS_EXAMPLES: Record<string, ErrorCode> = {
  "400": "malformed_json",
  "401": "unauthorized",
  "403": "forbidden",
  "404": "not_found",
  "409": "conflict",
  "410": "media_link_expired",
  "413": "payload_too_large",
  "415": "unsupported_media_type",
  "500": "internal",
  "502": "backup_store_unavailable",
  "503": "qr_unavailable",
  "507": "storage_full",
};

type SpecResponse = { description?: string; content?: Record<string, unknown> };
type Spec = { paths?: Record<string, Record<string, { responses?: Record<string, SpecResponse> }>> };
type Route = { method: string; path: string; hooks: { detail?: unknown } };

/**
 * - A route's own `detail.responses` (a PNG, a file download) lay over what the plugin made
 *   from the schema: it calls everything that is not text JSON.
 * - The plugin gives a 204 a content map with no media type in it (`{ type, description }`),
 *   which Swagger UI renders as a body called "type": dropped.
 * - While the disk is full every write answers 507 (storageGuard.ts): documented on each
 *   operation `refusedWhileFull` names.
 * - Each error answer gets an example of its own status (STATUS_EXAMPLES), and that
 *   error's message as its description where the plugin had only "Response for status N".
 */
export function documentAnswers(spec: unknown, routes: Route[], refusedWhileFull: (method: string, route: string) => boolean): void {
  const paths = (spec as Spec | null)?.paths;
  if (!paths) return;
  for (const route of routes) {
    const operation = paths[route.path.replace(/:([^/]+)/g, "{$1}")]?.[route.method.toLowerCase()];
    if (!operation?.responses) continue;
    const own = (route.hooks.detail as { responses?: Record<string, SpecResponse> } | undefined)?.responses ?? {};
    for (const [status, response] of Object.entries(own)) operation.responses[status] = { ...operation.responses[status], ...response };
    for (const response of Object.values(operation.responses)) {
      if (response.content && !Object.keys(response.content).some((type) => type.includes("/"))) {
        delete response.content;
        if (response.description?.startsWith("Response for status")) response.description = "No content.";
      }
    }
    const error = operation.responses["500"];
    if (error && !operation.responses["507"] && refusedWhileFull(route.method, route.path)) {
      operation.responses["507"] = { ...error, content: { ...error.content }, description: ERRORS.storage_full.message };
    }
    for (const [status, response] of Object.entries(operation.responses)) {
      const json = response.content?.["application/json"] as { schema?: { properties?: object }; example?: unknown } | undefined;
      const code = STATUS_EXAMPLES[status];
      if (code && json?.schema?.properties && "error" in json.schema.properties && json.example === undefined) {
        response.content!["application/json"] = { ...json, example: { error: { code, message: ERRORS[code].message, details: null } } };
        if (response.description?.startsWith("Response for status")) response.description = ERRORS[code].message;
      }
    }
  }
}

/** The OpenAPI document (330 kB of JSON, 17 kB gzipped), compressed once for as long as it stays the same. */
export function specResponder() {
  let text = "";
  let body: CompressedBody | null = null;
  return (spec: unknown, request: Request): Response => {
    const current = JSON.stringify(spec);
    if (current !== text || !body) {
      text = current;
      body = new CompressedBody(new TextEncoder().encode(text));
    }
    return body.response(request, { "content-type": "application/json" });
  };
}
