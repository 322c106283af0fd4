// The WhatsApp stage as the daemon wires it. It loads after the API listens (see main.ts),
// so the stages built before it reach it through this holder: account routes wait for
// it, media wake-ups do nothing and older-history requests fail until it has loaded.
import type { AppDeps } from "../api/deps.ts";
import type { Config } from "../config.ts";
import type { DataStage } from "../dataStage.ts";
import type { Message } from "../domain.ts";
import { ingestHistory } from "../ingest/history.ts";
import { ingestMessage } from "../ingest/ingest.ts";
import { queueAccountStatus, queueMessageStatus } from "../ingest/statusEvents.ts";
import type { Logger } from "../log.ts";
import type { OpenFilesLimit } from "../openFiles.ts";
import type { AccountManager } from "../wa/accounts.ts";
import type { WaStage, WaStageOptions } from "../wa/stage.ts";
import type { DeliveryStage } from "./delivery.ts";
import type { StorageStage } from "./storage.ts";

export class LateWhatsApp {
  private stage: WaStage | null = null;
  private readonly loaded = Promise.withResolvers<AccountManager>();

  /** Imports Baileys and starts the stage; resolves (or fails) with it. */
  load(options: WaStageOptions): Promise<AccountManager> {
    import("../wa/stage.ts")
      .then((m) => {
        this.stage = m.startWaStage(options);
        return this.stage.accounts;
      })
      .then(this.loaded.resolve, this.loaded.reject);
    return this.loaded.promise;
  }

  wakeMedia = (): void => this.stage?.downloader.wake();

  requestOlder = (accountId: string, oldest: Message, count: number): Promise<string> =>
    this.stage ? this.stage.accounts.requestOlder(accountId, oldest, count) : Promise.reject(new Error("starting"));

  /** The account routes; those called in the first moments wait for the stage rather than fail. */
  accountsApi(data: Pick<DataStage, "removeAccount">): AppDeps["accounts"] {
    const ready = this.loaded.promise;
    return {
      create: async (name, email) => (await ready).create(name, email),
      qr: async (id) => (await ready).qr(id),
      pairingCode: async (id, phone) => (await ready).pairingCode(id, phone),
      logout: async (id) => (await ready).logout(id),
      restart: async (id) => (await ready).restart(id),
      remove: (id, purge) => data.removeAccount(id, purge, async () => (await ready).remove(id, purge)),
      problem: (id) => this.stage?.accounts.problem(id) ?? null,
      // Nothing changes before the stage has loaded; a stream opened that early hears from it once it has.
      watch: (id, fn) => {
        let unsubscribe: () => void = () => {};
        let done = false;
        void ready.then((a) => {
          if (!done) unsubscribe = a.watch(id, fn);
        });
        return () => {
          done = true;
          unsubscribe();
        };
      },
      currentQr: async (id) => (await ready).currentQr(id),
    };
  }

  /** Closes the sockets and stops downloading. */
  stop(): void {
    this.stage?.accounts.stopAll();
    this.stage?.downloader.stop();
  }
}

export interface WaInputs {
  config: Config;
  log: Logger;
  storage: StorageStage;
  delivery: DeliveryStage;
  links: { dir: string };
  openFiles: OpenFilesLimit;
  /** No terminal QR art (tests). */
  quietQr?: boolean;
  mediaRetryMs?: number[];
}

/** What the stage is started with: where it connects, and where its events go (ingest, history, backfills). */
export function waStageOptions(i: WaInputs): WaStageOptions {
  const { config, storage, delivery } = i;
  const { store } = storage;
  const { worker, backfills } = delivery;
  return {
    store,
    log: i.log,
    waUrl: config.waUrl,
    waRootKey: config.waRootKey,
    waQrTimeoutMs: config.waQrTimeoutMs,
    waMediaUrl: config.waMediaUrl,
    mediaDir: i.links.dir,
    mediaMaxBytes: config.mediaMaxBytes,
    // QR art only for an admin watching a terminal who asked for it, never into a journal.
    quietQr: i.quietQr || !(config.qrTerminal && process.stdout.isTTY),
    mediaRetryMs: i.mediaRetryMs,
    wakeDelivery: worker.wake,
    commit: storage.commit,
    openFiles: i.openFiles,
    handlers: {
      deliver: (message, events) => ingestMessage(delivery.ingest, message, events),
      storeHistory: (id, messages) => {
        const stored = ingestHistory(delivery.history, id, messages);
        for (const m of messages.slice(0, stored.stored)) delivery.metrics.message(m.accountId);
        if (stored.autoBackfillId) backfills.wake();
      },
      historyAnswered: backfills.olderAnswered,
      messageStatus: (accountId, changes) => {
        let queued = 0;
        for (const change of changes) queued += queueMessageStatus(store, accountId, change);
        if (queued) worker.wake();
      },
    },
    onAccountStatus: (accountId, change) => {
      if (queueAccountStatus(store, accountId, change)) worker.wake();
    },
  };
}
