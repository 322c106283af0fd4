// History chunks whose notification WhatsApp considers delivered (its receipt left) but
// which were never stored: the process died while downloading or storing them. WhatsApp
// will not send those notifications again, so at the next login each is downloaded again
// from the link it carries (valid for some days) and stored like a live chunk.
import { downloadAndProcessHistorySyncNotification, proto } from "baileys";
import type { Logger } from "../log.ts";
import type { Store } from "../store/db.ts";
import { failHistoryNotification, pendingHistoryNotifications } from "../store/historyNotifications.ts";
import type { HistoryChunk } from "./events.ts";

/** After this many failed fetches a chunk is given up on (marked failed, logged). */
const MAX_ATTEMPTS = 5;

export interface RecoveryDeps {
  store: Store;
  accountId: string;
  log: Logger;
  /** Only notifications recorded before this moment: later ones are Baileys' own, in progress. */
  before: number;
  /** Stores the chunk and removes its notification's row, together. */
  save(chunk: HistoryChunk, messageId: string): void;
}

/** The HTTP status of a failed media download (Baileys throws Boom errors), if any. */
const statusOf = (error: unknown) => (error as { output?: { statusCode?: number } }).output?.statusCode ?? null;

export async function recoverHistory(deps: RecoveryDeps): Promise<number> {
  const { store, accountId, log } = deps;
  let recovered = 0;
  for (const row of pendingHistoryNotifications(store, accountId)) {
    if (row.createdAt >= deps.before) continue;
    const notification = proto.Message.HistorySyncNotification.decode(Buffer.from(row.notification, "base64"));
    try {
      const data = await downloadAndProcessHistorySyncNotification(notification, {});
      deps.save({ ...data, chunkOrder: notification.chunkOrder, peerDataRequestSessionId: notification.peerDataRequestSessionId } as HistoryChunk, row.messageId);
      recovered++;
      log.info("a history chunk interrupted by a stop was fetched again and stored", { account_id: accountId, messages: data.messages.length });
    } catch (error) {
      const status = statusOf(error);
      // 404/410: WhatsApp no longer serves it; nothing later will change that.
      const giveUp = status === 404 || status === 410 || row.attempts + 1 >= MAX_ATTEMPTS;
      failHistoryNotification(store, accountId, row.messageId, String((error as Error).message ?? error), giveUp);
      if (giveUp) log.error("a history chunk could not be fetched again; its messages are missing from the stored history", { account_id: accountId, message_id: row.messageId, status, error });
      else log.warn("could not fetch an interrupted history chunk yet; trying again at the next login", { account_id: accountId, status, error });
    }
  }
  return recovered;
}
