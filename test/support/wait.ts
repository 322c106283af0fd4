/** Polls `check` (sync or async) every `everyMs`; fails with `what` when it is not true in time. */
export async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs = 5_000, what = "condition", everyMs = 5): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await Bun.sleep(everyMs);
  }
}
