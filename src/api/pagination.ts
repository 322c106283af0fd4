// Opaque cursors: the id of the last item of a page. Ids are time-ordered, so the next
// page is a range scan on the primary key. Stores are asked for limit + 1 rows so the
// last page says so (next_cursor null) instead of leading to an empty one.
import { ApiError } from "../errors.ts";

export const DEFAULT_LIMIT = 50;

export function decodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined || cursor === "") return undefined;
  const id = Buffer.from(cursor, "base64url").toString("utf8");
  if (!/^[a-z]+_[0-9A-Z]{26}$/.test(id)) throw new ApiError("invalid_cursor");
  return id;
}

export interface Page<Out> {
  data: Out[];
  next_cursor: string | null;
}

/**
 * The first `limit` of `limit + 1` rows, with the cursor of the last one shown when there
 * are more. The cursor is the row's id, or `keyOf` for lists ordered by something else
 * (a position such as `chat:<id>`); either way base64url, opaque to clients.
 */
export function pageOf<Row extends { id: string }, Out>(rowsPlusOne: Row[], limit: number, map: (r: Row) => Out): Page<Out>;
export function pageOf<Row, Out>(rowsPlusOne: Row[], limit: number, map: (r: Row) => Out, keyOf: (r: Row) => string): Page<Out>;
export function pageOf<Row, Out>(rowsPlusOne: Row[], limit: number, map: (r: Row) => Out, keyOf = (r: Row) => (r as { id: string }).id): Page<Out> {
  const rows = rowsPlusOne.slice(0, limit);
  const last = rowsPlusOne.length > limit ? rows[rows.length - 1] : undefined;
  return { data: rows.map(map), next_cursor: last ? Buffer.from(keyOf(last)).toString("base64url") : null };
}
