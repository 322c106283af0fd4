// Scheduled backups (WAHOOK_BACKUP_CRON). A backup still running when the next one is due
// makes that one wait for the following time rather than queue up behind it.
import { Cron } from "croner";
import type { Logger } from "../log.ts";

export function scheduleBackups(pattern: string, start: () => void, isRunning: () => boolean, log: Logger): { stop(): void } {
  const job = new Cron(pattern, { name: "backup", protect: true, catch: (error: unknown) => log.error("a scheduled backup could not start", { error }) }, () => {
    if (isRunning()) {
      log.warn("scheduled backup skipped: the previous one is still running", { pattern });
      return;
    }
    start();
  });
  return { stop: () => job.stop() };
}
