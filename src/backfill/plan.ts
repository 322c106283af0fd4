// Planning: the moment a job fixes what it will send. An automatic job first waits for
// history to go quiet, any job for its on-demand requests to settle; then the selection's
// end (the newest stored message) and its total are fixed and the job runs.
import type { EventType } from "../domain.ts";
import { countSelected, maxMessageRowid, selectionOf } from "../store/backfillBatch.ts";
import { transitionBackfill, type BackfillRow } from "../store/backfills.ts";
import type { Store } from "../store/db.ts";
import { historyWebhooks, webhookTargets, type WebhookTarget } from "../store/webhooks.ts";

/** History must be quiet this long before an automatic backfill counts what it will send. */
export const HISTORY_SETTLE_MS = 5_000;

/** The webhooks a job sends to: while an automatic job plans, every one that asks for history of its account. */
export function hooksOf(store: Store, job: BackfillRow): WebhookTarget[] {
  if (job.auto === 1 && job.state === "planning") return historyWebhooks(store, job.account_id);
  return webhookTargets(store, JSON.parse(job.webhook_ids) as string[]);
}

/** Whether an automatic job is still waiting for history to settle. */
export function waitingForHistory(job: BackfillRow, now: number): boolean {
  return job.plan_after !== null && job.plan_after > now;
}

/** Fixes the job's webhooks, selection end and total, and starts it; null if it moved meanwhile. */
export function startJob(store: Store, job: BackfillRow, hooks: WebhookTarget[], now: number): BackfillRow | null {
  const maxRowid = maxMessageRowid(store);
  const counts = countSelected(store, selectionOf(job, maxRowid));
  const takers = (event: EventType) => hooks.filter((h) => h.events.includes(event)).length;
  const total = counts.received * takers("message.received") + counts.sent * takers("message.sent");
  return transitionBackfill(store, job.id, ["planning"], "running", {
    webhook_ids: JSON.stringify(hooks.map((h) => h.id)),
    max_rowid: maxRowid,
    total,
    started_at: now,
  });
}
