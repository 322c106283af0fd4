// Timed work, each job a few lines calling into a stage. Live delivery never waits for
// these: ingest wakes the worker directly; the sweep only finds what became due later.
import { Cron } from "croner";
import type { Logger } from "../log.ts";
import type { Store } from "../store/db.ts";
import { releaseExpiredLeases } from "../store/outbox.ts";
import { pruneDelivered } from "../store/retention.ts";

export interface JobDeps {
  store: Store;
  log: Logger;
  retentionDays: number;
  /** Wakes the delivery worker (retries and pauses that came due, released leases). */
  wakeDelivery(): void;
  /** Moves backfills along (the runner paces itself in between; this catches a restart). */
  wakeBackfills?(): void;
  disableLongFailing(now: number): number;
}

export function startJobs(deps: JobDeps): { stop(): void } {
  const { store, log } = deps;
  const jobs = [
    new Cron("* * * * * *", { name: "delivery-sweep", protect: true }, () => {
      releaseExpiredLeases(store.sqlite, Date.now());
      deps.wakeDelivery();
    }),
    new Cron("* * * * * *", { name: "backfill-pacer", protect: true }, () => deps.wakeBackfills?.()),
    new Cron("17 * * * * *", { name: "auto-disable", protect: true }, () => {
      const n = deps.disableLongFailing(Date.now());
      if (n) log.warn("disabled webhooks that failed every attempt for 5 days", { count: n });
    }),
    new Cron("0 23 * * * *", { name: "retention", protect: true }, () => {
      const removed = pruneDelivered(store.sqlite, Date.now() - deps.retentionDays * 86_400_000);
      if (removed.outbox || removed.attempts) log.info("retention removed old deliveries", removed);
    }),
  ];
  return { stop: () => jobs.forEach((j) => j.stop()) };
}
