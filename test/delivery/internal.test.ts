// Our own failures are not the receiver's: an exception inside the daemon while it prepares
// an attempt (here, building the body) is recorded as `internal`, logged with its stack and
// retried, and it never counts toward disabling the endpoint.
import { expect, test } from "bun:test";
import { createLogger } from "../../src/log.ts";
import { deliveryHarness, textMessage, type Engine } from "../support/delivery.ts";
import { waitUntil } from "../support/wait.ts";

const t = deliveryHarness();
let e: Engine;

const DAY = 86_400_000;

const cases = [
  { name: "a healthy endpoint does not start a run of failures", failingFor: null },
  // One more failure of its own would disable it (test/jobs/jobs.test.ts).
  { name: "an endpoint failing for 5 days is not disabled", failingFor: 5 * DAY },
];

test.each(cases.map((c) => [c.name, c] as const))("an exception while building the body: %s", async (_name, c) => {
  const lines: { level: string; msg: string; error?: { message: string; stack?: string } }[] = [];
  let broken = true;
  e = t.engine({
    log: createLogger("error", (line) => lines.push(JSON.parse(line))),
    accountInfo: () => {
      if (broken) throw new Error("a bug of ours");
      return { phone: null, email: null };
    },
  });
  const hook = e.webhook({ url: t.sink.url(), retrySchedule: [60_000] });
  const failingSince = c.failingFor === null ? null : Date.now() - c.failingFor;
  e.store.sqlite.query("UPDATE webhooks SET failing_since = ? WHERE id = ?").run(failingSince, hook.id);
  const attempts = () => e.store.sqlite.query("SELECT attempt, error_class, outcome FROM delivery_attempts ORDER BY id").all();
  const endpoint = () => e.store.sqlite.query("SELECT enabled, failing_since FROM webhooks WHERE id = ?").get(hook.id);

  e.send(textMessage());
  await waitUntil(() => attempts().length === 1);
  expect(attempts()).toEqual([{ attempt: 1, error_class: "internal", outcome: "retry" }]);
  expect(endpoint()).toEqual({ enabled: 1, failing_since: failingSince });
  expect(e.outbox().map((r) => r.status)).toEqual(["pending"]);
  const logged = lines.find((l) => l.level === "error");
  expect(logged?.error?.message).toBe("a bug of ours");
  expect(logged?.error?.stack).toContain("a bug of ours");

  // Retried: once the bug is gone, the next attempt delivers.
  broken = false;
  e.store.sqlite.query("UPDATE outbox SET available_at = 0").run();
  e.worker.wake();
  await waitUntil(() => e.outbox()[0]?.status === "delivered");
  expect(attempts()).toEqual([
    { attempt: 1, error_class: "internal", outcome: "retry" },
    { attempt: 2, error_class: null, outcome: "delivered" },
  ]);
  expect(t.sink.requests).toHaveLength(1);
});
