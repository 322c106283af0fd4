// Maps everything a request can fail with onto the catalogue's JSON body. No stack trace
// or internal message ever reaches the caller; unexpected errors are logged instead.
import { ApiError, type ErrorBody } from "../errors.ts";
import type { Logger } from "../log.ts";
import { isNoSpace } from "../store/storageHealth.ts";
import { internalErrorResponse } from "./edge.ts";

interface ValueIssue {
  path?: string;
  message?: string;
  summary?: string;
  schema?: { "x-field"?: string };
}

/**
 * Elysia validates coerced query values one property at a time (`type: "property"`) and
 * loses the name on the way; such schemas carry their name in `x-field` (schemas.ts).
 */
function fieldName(where: string, issue: ValueIssue): string {
  if (where === "property") return `query.${issue.schema?.["x-field"] ?? "?"}`;
  const parts = (issue.path ?? "").split("/").filter(Boolean);
  return [where, ...parts].join(".");
}

/** A hostile body can fail on 100,000 elements; the first few say what to fix. */
const MAX_DETAILS = 10;
/** Field paths and messages are ours, but a path can hold a caller's key name. */
const MAX_TEXT = 200;
const clip = (text: string) => (text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…` : text);

/** Validation errors name the field and say what was expected. */
export function validationError(where: string, issues: ValueIssue[]): ApiError {
  const details = issues.map((i) => ({ field: clip(fieldName(where, i)), message: clip(i.summary ?? i.message ?? "invalid") }));
  const seen = new Set<string>();
  const unique = details.filter((d) => !seen.has(`${d.field}|${d.message}`) && seen.add(`${d.field}|${d.message}`)).slice(0, MAX_DETAILS);
  const first = unique[0];
  const message = first ? `${first.field}: ${first.message}` : "The request does not match the schema.";
  return new ApiError("validation_failed", message, unique);
}

export function toErrorResponse(error: unknown, code: string | number, log: Logger, request: Request, path: string): Response {
  let apiError: ApiError;
  if (error instanceof ApiError) apiError = error;
  else if (code === "VALIDATION") {
    const v = error as { type?: string; all?: ValueIssue[] };
    apiError = validationError(v.type ?? "body", v.all ?? []);
  } else if (code === "PARSE") {
    // Errors thrown by our body parser (413, 415, bad JSON) arrive wrapped in a ParseError.
    const cause = (error as Error).cause;
    apiError = cause instanceof ApiError ? cause : new ApiError("malformed_json");
  }
  else if (code === "NOT_FOUND") apiError = new ApiError("route_not_found");
  // A write that hit a full disk was rolled back: say so, rather than "internal".
  else if (isNoSpace(error)) apiError = new ApiError("storage_full");
  else return internalErrorResponse(error, log, { method: request.method, path });
  const body: ErrorBody = apiError.toBody();
  return Response.json(body, { status: apiError.status });
}
