// The WhatsApp stage as one unit that the daemon loads with a dynamic import once the API
// listens: Baileys and its dependencies take longer to load than everything else together,
// and /health should not wait for them.
import type { AccountStatusChange } from "../domain.ts";
import type { Logger } from "../log.ts";
import { countOpenFiles, type OpenFilesLimit } from "../openFiles.ts";
import { lastMessageAt } from "../store/accounts.ts";
import type { Store } from "../store/db.ts";
import { AccountManager } from "./accounts.ts";
import { FdBudget } from "./fdBudget.ts";
import { ReconnectQueue } from "./reconnectQueue.ts";
import type { GroupCommit } from "../store/groupCommit.ts";
import { attachHandlers, type EventDeps } from "./events.ts";
import { FrameGate } from "./frameGate.ts";
import { MediaDownloader } from "./media.ts";
import { rewriteMediaHost, trustCertificateRoot } from "./transport.ts";

export interface WaStageOptions {
  store: Store;
  log: Logger;
  waUrl: string | null;
  waRootKey: string | null;
  /** Testing only: each pairing QR's lifetime (WAHOOK_WA_QR_TIMEOUT_S). */
  waQrTimeoutMs?: number | null;
  waMediaUrl: string | null;
  mediaDir: string;
  mediaMaxBytes: number;
  quietQr?: boolean;
  mediaRetryMs?: number[];
  wakeDelivery(): void;
  /** End-of-turn commit of what sockets receive; their frames wait for it. */
  commit: GroupCommit;
  /** What becomes of messages and history (ingest), as callbacks. */
  handlers: Omit<EventDeps, "store" | "log" | "commit">;
  /** `account.status` events (ingest/statusEvents.ts), in the transaction of the change. */
  onAccountStatus?(accountId: string, change: AccountStatusChange): void;
  /** The open-files limit as start-up left it (openFiles.ts): WhatsApp sockets are budgeted under it. */
  openFiles: OpenFilesLimit;
}

export interface WaStage {
  accounts: AccountManager;
  downloader: MediaDownloader;
}

export function startWaStage(o: WaStageOptions): WaStage {
  if (o.waRootKey) trustCertificateRoot(o.waRootKey);
  if (o.waMediaUrl) rewriteMediaHost(o.waMediaUrl);
  const downloader = new MediaDownloader({ store: o.store, log: o.log, dir: o.mediaDir, maxBytes: o.mediaMaxBytes, wakeDelivery: o.wakeDelivery, retryMs: o.mediaRetryMs });
  downloader.start();
  const gate = new FrameGate(o.commit, o.log);
  const accounts = new AccountManager({
    store: o.store,
    log: o.log,
    waUrl: o.waUrl,
    qrTimeoutMs: o.waQrTimeoutMs ?? null,
    quiet: o.quietQr,
    commit: o.commit,
    onStatus: o.onAccountStatus,
    slots: connectQueue(o),
    attach: (sock, accountId) => {
      gate.wrap(sock);
      attachHandlers(sock, accountId, { store: o.store, log: o.log, commit: o.commit, ...o.handlers });
    },
  });
  return { accounts, downloader };
}

/**
 * Sockets open through the reconnect queue, under a file-handle budget made from what is
 * open now (database, listener, runtime): everything but the accounts.
 */
function connectQueue(o: WaStageOptions): ReconnectQueue {
  const { soft, hard, raisedFrom } = o.openFiles;
  const budget = new FdBudget({ limit: soft, inUse: countOpenFiles() ?? 0, countOpen: countOpenFiles });
  const fit = Number.isFinite(budget.capacity) ? budget.capacity : null;
  o.log.info("open-files limit", { soft, hard, raised_from: raisedFrom, accounts_fit: fit });
  return new ReconnectQueue({ budget, activity: (id) => lastMessageAt(o.store, id), log: o.log });
}
