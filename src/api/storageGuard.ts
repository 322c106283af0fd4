// While the data folder's disk is full, requests that change something are refused with
// 507 `storage_full` before they start, instead of failing half-way with a generic error.
// Reads keep working; deleting a backup is let through, as it may be what frees space.
import { ApiError } from "../errors.ts";
import type { StorageProblem } from "../store/storageHealth.ts";

const READ_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
const FREES_SPACE = new Set(["DELETE /v1/backups/:name"]);

/** Whether a full disk refuses this request (`route` as matched, e.g. "/v1/backups/:name"); also what the API documents. */
export function refusedWhileFull(method: string, route: string | undefined): boolean {
  return !READ_METHODS.has(method) && !FREES_SPACE.has(`${method} ${route}`);
}

export function storageGuard(problem: () => StorageProblem | null) {
  return (route: string | undefined, request: Request): void => {
    if (!refusedWhileFull(request.method, route)) return;
    const p = problem();
    if (p) throw new ApiError("storage_full", `Nothing was changed: ${p.reason}`);
  };
}
