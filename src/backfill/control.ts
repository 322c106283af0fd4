// An admin steering a job: pause (nothing more is queued; what is queued still goes),
// resume (where it stopped; a job paused before it finished planning plans again) and a
// new pace. Cancelling is the runner's (it ends the job, see runner.ts).
import type { BackfillState } from "../domain.ts";
import { ApiError } from "../errors.ts";
import { transitionBackfill, updateBackfill, type BackfillRow } from "../store/backfills.ts";
import type { Store } from "../store/db.ts";

/** States whose pace still matters. */
const UNENDED: BackfillState[] = ["planning", "running", "paused"];

function move(store: Store, row: BackfillRow, from: BackfillState[], to: BackfillState, verb: string): BackfillRow {
  const moved = transitionBackfill(store, row.id, from, to);
  if (!moved) throw new ApiError("backfill_state", `A ${row.state} backfill cannot be ${verb}; only a ${from.join(" or ")} one can.`);
  return moved;
}

export const pauseBackfill = (store: Store, row: BackfillRow): BackfillRow => move(store, row, ["planning", "running"], "paused", "paused");

export const resumeBackfill = (store: Store, row: BackfillRow): BackfillRow => move(store, row, ["paused"], row.started_at === null ? "planning" : "running", "resumed");

export function setBackfillPace(store: Store, row: BackfillRow, ratePerS: number): BackfillRow {
  if (!UNENDED.includes(row.state)) throw new ApiError("backfill_state", `A ${row.state} backfill has ended; its pace cannot change.`);
  return updateBackfill(store, row.id, { rate_per_s: ratePerS })!;
}
