// Old delivery history goes; what is still owed to a receiver (pending, in flight) and
// dead letters (failed, replayable) stay whatever their age.
import type { Database } from "bun:sqlite";

/** Deletes in slices so a large backlog never holds the write lock for long. */
const SLICE = 5_000;

export function pruneDelivered(sqlite: Database, before: number): { outbox: number; attempts: number } {
  let attempts = 0;
  let outbox = 0;
  for (;;) {
    const n = sqlite.query(`DELETE FROM delivery_attempts WHERE id IN (SELECT id FROM delivery_attempts WHERE started_at < ? LIMIT ${SLICE})`).run(before).changes;
    attempts += n;
    if (n < SLICE) break;
  }
  for (;;) {
    const n = sqlite
      .query(`DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE status = 'delivered' AND created_at < ? LIMIT ${SLICE})`)
      .run(before).changes;
    outbox += n;
    if (n < SLICE) break;
  }
  return { outbox, attempts };
}
