// Who is calling. Runs at the very start of a request, before the body is parsed or
// validated, so a caller without a valid key learns nothing about the API's schemas and a
// read key can never reach a handler that writes.
import { ApiError } from "../errors.ts";
import type { Db } from "../store/db.ts";
import { findKey, type ApiKeyRow } from "../store/apiKeys.ts";

const READ_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export function presentedKey(headers: Headers): string | null {
  const auth = headers.get("authorization");
  if (auth) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    return m?.[1] ?? null;
  }
  return headers.get("x-api-key")?.trim() || null;
}

export function authenticate(db: Db, request: Request): ApiKeyRow {
  const key = presentedKey(request.headers);
  const row = key ? findKey(db, key) : null;
  if (!row) throw new ApiError("unauthorized", key ? "This API key is unknown or revoked." : undefined);
  if (row.scope !== "admin" && !READ_METHODS.has(request.method)) throw new ApiError("forbidden");
  return row;
}
