// The API stage: what the routes are given (AppDeps) and the server they answer on. The
// daemon (main.ts) and the API test fixture build the app's dependencies with buildApi.
import { createApp } from "../api/app.ts";
import type { AppDeps } from "../api/deps.ts";
import { edgeHandlers } from "../api/edge.ts";
import type { Config } from "../config.ts";
import type { DataStage } from "../dataStage.ts";
import { renderPrometheus } from "../delivery/metrics.ts";
import { buildTestMessage } from "../delivery/payload.ts";
import { checkTarget } from "../delivery/targetCheck.ts";
import { enqueueTestEvent } from "../ingest/ingest.ts";
import type { Logger } from "../log.ts";
import type { Store } from "../store/db.ts";
import { allQueueDepths } from "../store/deliveries.ts";
import { renderStorageMetrics } from "../storageStats.ts";
import type { DeliveryStage } from "./delivery.ts";

/** A request body Bun refuses outright; our own 1 MiB check answers below it with the JSON error. */
const MAX_REQUEST_BODY_BYTES = 16 * 1024 * 1024;

export interface ApiInputs {
  config: Config;
  log: Logger;
  version: string;
  store: Store;
  delivery: DeliveryStage;
  data: Pick<DataStage, "backups" | "storage" | "stats">;
  accounts: AppDeps["accounts"];
  media: AppDeps["media"];
  /** The WAL checkpointer's figures for /metrics (the daemon's; the API tests have none). */
  wal?: { running: boolean; framesCheckpointed: number };
}

export function buildApi(i: ApiInputs): AppDeps {
  const { config, store, delivery, data } = i;
  return {
    store,
    config,
    log: i.log,
    version: i.version,
    startedAt: Date.now(),
    checkTarget: (url) => checkTarget(url, config.allowTargets),
    delivery: {
      sendTest: (webhookId, ordering) => enqueueTestEvent(delivery.ingest, webhookId, ordering, buildTestMessage(null, Date.now())),
      wake: delivery.worker.wake,
      metrics: () => renderPrometheus(delivery.metrics, allQueueDepths(store), Date.now(), i.wal) + renderStorageMetrics(data.stats.sizes()),
    },
    accounts: i.accounts,
    backfills: delivery.backfills,
    media: i.media,
    backups: data.backups,
    storage: { problem: () => data.storage.problem, stats: () => data.stats.read() },
  };
}

/** Starts answering on WAHOOK_HOST:WAHOOK_PORT. */
export function listen(deps: AppDeps) {
  const app = createApp(deps);
  return Bun.serve({
    hostname: deps.config.host,
    port: deps.config.port,
    maxRequestBodySize: MAX_REQUEST_BODY_BYTES,
    ...edgeHandlers((request) => app.handle(request), deps.log),
  });
}
