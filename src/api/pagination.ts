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

export function pageOf<Row extends { id: string }, Out>(rowsPlusOne: Row[], limit: number, map: (r: Row) => Out) {
  const rows = rowsPlusOne.slice(0, limit);
  const last = rowsPlusOne.length > limit ? rows[rows.length - 1] : undefined;
  return { data: rows.map(map), next_cursor: last ? Buffer.from(last.id).toString("base64url") : null };
}
