// Moves backfill jobs along on a timer: planning (plan.ts, with older.ts's requests to the
// phone), running (pace.ts queues the next messages at the job's pace), then an end
// (end.ts). The pace is kept by queueing, not by holding rows: the cursor in the job's row
// says exactly where it stands after a crash.
import type { BackfillState, Message } from "../domain.ts";
import type { Logger } from "../log.ts";
import { activeBackfills, type BackfillRow } from "../store/backfills.ts";
import type { Store } from "../store/db.ts";
import { endJob, type EndState } from "./end.ts";
import { OlderRequests } from "./older.ts";
import { Pacer } from "./pace.ts";
import { hooksOf, startJob, waitingForHistory } from "./plan.ts";

export interface RunnerDeps {
  store: Store;
  log: Logger;
  wakeDelivery(): void;
  wakeMedia(): void;
  /** How long a delivery may wait for its media download. */
  mediaHoldMs: number;
  /**
   * Asks the phone for `count` messages older than `oldest` in its chat; resolves with the
   * request id its answer will carry. Rejects when the account is not connected.
   */
  requestOlder(accountId: string, oldest: Message, count: number): Promise<string>;
  now?: () => number;
}

export class BackfillRunner {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private running = false;
  private readonly now: () => number;
  private readonly older: OlderRequests;
  private readonly pacer: Pacer;

  constructor(private readonly deps: RunnerDeps) {
    this.now = deps.now ?? Date.now;
    this.older = new OlderRequests({ store: deps.store, log: deps.log, requestOlder: deps.requestOlder, now: this.now });
    this.pacer = new Pacer(deps);
  }

  start(): void {
    this.running = true;
    this.wake();
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Runs a tick soon (new job, resumed job, history arrived); ticks repeat while jobs are active. */
  wake = (): void => {
    if (!this.running || this.timer) return;
    this.timer = setTimeout(this.tick, 0);
  };

  /** The phone answered an on-demand request: the job it was for may go on planning. */
  olderAnswered = (requestId: string, count: number): void => {
    if (this.older.answered(requestId, count)) this.wake();
  };

  /** An admin's cancel: counts frozen, `backfill.finished` queued; null if the job had ended. */
  cancel = (id: string): BackfillRow | null => {
    const row = this.end(id, ["planning", "running", "paused"], "cancelled", null);
    this.deps.wakeDelivery();
    return row;
  };

  tick = (): void => {
    this.timer = null;
    if (!this.running) return;
    let next = Infinity;
    for (const job of activeBackfills(this.deps.store)) {
      try {
        if (job.state === "planning") {
          this.plan(job);
          next = Math.min(next, 200);
        } else {
          this.advance(job);
          next = Math.min(next, Math.min(200, Math.max(20, Math.floor(1000 / job.rate_per_s))));
        }
      } catch (error) {
        // A job that cannot move is marked failed with the reason rather than retried forever.
        this.deps.log.error("backfill failed", { backfill_id: job.id, error });
        this.finish(job, "failed", `internal error: ${(error as Error).message}`);
      }
    }
    if (next !== Infinity && this.running) this.timer = setTimeout(this.tick, next);
  };

  private plan(job: BackfillRow): void {
    const now = this.now();
    if (waitingForHistory(job, now)) return;
    if (job.older_per_chat && !this.older.settled(job, now)) return;
    const hooks = hooksOf(this.deps.store, job);
    if (!hooks.length) return this.finish(job, "failed", job.auto ? "no webhook asks for history any more" : "its webhooks were deleted");
    const started = startJob(this.deps.store, job, hooks, now);
    if (started) this.deps.log.info("backfill running", { backfill_id: job.id, account_id: job.account_id, total: started.total, rate_per_s: job.rate_per_s });
  }

  private advance(job: BackfillRow): void {
    const hooks = hooksOf(this.deps.store, job);
    if (!hooks.length) return this.finish(job, "failed", "its webhooks were deleted");
    if (this.pacer.advance(job, hooks, this.now()) === "done") this.finish(job, "finished", null);
  }

  private finish(job: BackfillRow, state: Extract<EndState, "finished" | "failed">, error: string | null): void {
    if (this.end(job.id, [job.state], state, error)) {
      this.deps.log.info(`backfill ${state}`, { backfill_id: job.id, error });
      this.deps.wakeDelivery();
    }
  }

  private end(id: string, from: BackfillState[], state: EndState, error: string | null): BackfillRow | null {
    this.pacer.forget(id);
    this.older.forget(id);
    return endJob(this.deps.store, id, from, state, error, this.now());
  }
}
