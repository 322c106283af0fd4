// Timed work, each job a few lines calling into a stage. Live delivery never waits for
// these: ingest wakes the worker directly; the sweep only finds what became due later.
import { Cron } from "croner";
import type { Logger } from "../log.ts";
import type { Store } from "../store/db.ts";
import { releaseExpiredLeases } from "../store/outbox.ts";
import type { RetentionReport } from "../retention.ts";

export interface JobDeps {
  store: Store;
  log: Logger;
  /** Removes what the retention settings let go (retention.ts); hourly. */
  runRetention(now: number): RetentionReport;
  /** Wakes the delivery worker (retries and pauses that came due, released leases). */
  wakeDelivery(): void;
  /** Moves backfills along (the runner paces itself in between; this catches a restart). */
  wakeBackfills?(): void;
  disableLongFailing(now: number): number;
}

export function startJobs(deps: JobDeps): { stop(): void } {
  const { store, log } = deps;
  // A job that throws (a database busy past its timeout, a full disk) is logged and runs
  // again at its next time; it must not take the process down.
  const guard = { protect: true, catch: (error: unknown, job: Cron) => log.error("a timed job failed; it runs again on schedule", { job: job.name, error }) };
  const jobs = [
    new Cron("* * * * * *", { name: "delivery-sweep", ...guard }, () => {
      releaseExpiredLeases(store, Date.now());
      deps.wakeDelivery();
    }),
    new Cron("* * * * * *", { name: "backfill-pacer", ...guard }, () => deps.wakeBackfills?.()),
    new Cron("17 * * * * *", { name: "auto-disable", ...guard }, () => {
      const n = deps.disableLongFailing(Date.now());
      if (n) log.warn("disabled webhooks that failed every attempt for 5 days", { count: n });
    }),
    new Cron("0 23 * * * *", { name: "retention", ...guard }, () => {
      const r = deps.runRetention(Date.now());
      const removed = {
        delivered: r.delivered.outbox,
        dead_letters: r.deadLetters?.outbox ?? 0,
        attempts: r.delivered.attempts + (r.deadLetters?.attempts ?? 0),
        messages: r.messages,
        media_files: r.mediaFiles + r.orphanFiles,
      };
      if (Object.values(removed).some(Boolean)) log.info("retention removed what its settings let go", removed);
    }),
  ];
  return { stop: () => jobs.forEach((j) => j.stop()) };
}
