// The WhatsApp stage as one unit that main.ts loads with a dynamic import once the API
// listens: Baileys and its dependencies take longer to load than everything else together,
// and /health should not wait for them.
import type { Logger } from "../log.ts";
import type { Store } from "../store/db.ts";
import { AccountManager } from "./accounts.ts";
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
    quiet: o.quietQr,
    commit: o.commit,
    attach: (sock, accountId) => {
      gate.wrap(sock);
      attachHandlers(sock, accountId, { store: o.store, log: o.log, commit: o.commit, ...o.handlers });
    },
  });
  return { accounts, downloader };
}
