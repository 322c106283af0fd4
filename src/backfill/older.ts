// `older_per_chat`: while a job plans, the phone is asked for older messages of each of its
// chats (WhatsApp answers later, as history carrying the request's id), a few requests a
// second per job. A chat is settled once answered in full, answered short (the phone has no
// more) or given up on; planning waits for every chat, never longer than PLANNING_MAX_MS.
import type { Message } from "../domain.ts";
import type { Logger } from "../log.ts";
import { finishOlder, markOlderRequested, olderRows, recordOlderAnswer } from "../store/backfillOlder.ts";
import type { BackfillRow } from "../store/backfills.ts";
import { chatMessages } from "../store/chats.ts";
import type { Store } from "../store/db.ts";

/** WhatsApp answers on-demand history requests with at most about this many messages. */
const OLDER_PER_REQUEST = 50;
/** At most this many on-demand requests per second and job (the phone answers them one by one). */
const OLDER_REQUESTS_PER_S = 2;
/** An on-demand request not answered in this time is given up (the phone may be offline). */
const OLDER_TIMEOUT_MS = 20_000;
/** Planning never waits for the phone longer than this in all. */
const PLANNING_MAX_MS = 3 * 60_000;

export interface OlderDeps {
  store: Store;
  log: Logger;
  /**
   * Asks the phone for `count` messages older than `oldest` in its chat; resolves with the
   * request id its answer will carry. Rejects when the account is not connected.
   */
  requestOlder(accountId: string, oldest: Message, count: number): Promise<string>;
  now(): number;
}

export class OlderRequests {
  private readonly lastRequest = new Map<string, number>();
  private readonly inFlight = new Set<string>();

  constructor(private readonly deps: OlderDeps) {}

  /** Sends the requests that are due, gives up on late ones; true once every chat of the job is settled. */
  settled(job: BackfillRow, now: number): boolean {
    const { store } = this.deps;
    const giveUp = now - job.created_at > PLANNING_MAX_MS;
    let open = 0;
    for (const row of olderRows(store, job.id)) {
      if (row.state === "done" || row.state === "unanswered") continue;
      if (giveUp || (row.state === "requested" && (row.requested_at ?? 0) + OLDER_TIMEOUT_MS < now)) {
        finishOlder(store, job.id, row.chat_id, "unanswered");
        continue;
      }
      open++;
      if (row.state !== "waiting") continue;
      const key = `${job.id} ${row.chat_id}`;
      if (this.inFlight.has(key) || now - (this.lastRequest.get(job.id) ?? 0) < 1000 / OLDER_REQUESTS_PER_S) continue;
      const oldest = chatMessages(store, job.account_id, row.chat_id, { order: "asc", limit: 1 })[0];
      if (!oldest) {
        finishOlder(store, job.id, row.chat_id, "done");
        continue;
      }
      this.lastRequest.set(job.id, now);
      this.inFlight.add(key);
      const count = Math.min(OLDER_PER_REQUEST, row.wanted - row.received);
      this.deps
        .requestOlder(job.account_id, oldest.message, count)
        .then((requestId) => markOlderRequested(store, job.id, row.chat_id, requestId, this.deps.now()))
        // Not connected right now: the row stays waiting and is asked again until planning gives up.
        .catch((error) => this.deps.log.debug("on-demand history request not sent", { backfill_id: job.id, error }))
        .finally(() => this.inFlight.delete(key));
    }
    return open === 0;
  }

  /**
   * The phone answered request `requestId` with `count` messages: that chat asks again for
   * more or is done. True when the request was one of ours.
   */
  answered(requestId: string, count: number): boolean {
    return recordOlderAnswer(this.deps.store, requestId, count, OLDER_PER_REQUEST) > 0;
  }

  /** The job ended: its pacing of requests goes. */
  forget(id: string): void {
    this.lastRequest.delete(id);
  }
}
