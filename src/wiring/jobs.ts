// The timed jobs as the daemon wires them: each wakes or runs a stage built before it.
import { longFailing } from "../delivery/policy.ts";
import type { DataStage } from "../dataStage.ts";
import { startJobs } from "../jobs/index.ts";
import type { Logger } from "../log.ts";
import type { Store } from "../store/db.ts";
import { disableFailingSince } from "../store/endpoints.ts";
import type { DeliveryStage } from "./delivery.ts";

export function startTimedJobs(store: Store, log: Logger, data: DataStage, delivery: DeliveryStage, wakeMedia: () => void): { stop(): void } {
  return startJobs({
    store,
    log,
    runRetention: data.runRetention,
    wakeDelivery: () => {
      delivery.worker.wake();
      wakeMedia();
    },
    wakeBackfills: delivery.backfills.wake,
    disableLongFailing: (now) => disableFailingSince(store, longFailing(now), now),
  });
}
