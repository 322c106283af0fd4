// The keeping of the data folder: whether its disk takes writes, what fills it, backups
// (API, schedule, S3) and retention. Built from the store and the config (wiring/storage.ts);
// its parts go to the group commit, the worker, the jobs and the API.
import { existsSync, readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Config } from "./config.ts";
import type { Logger } from "./log.ts";
import { backupInThread } from "./backup/inThread.ts";
import { S3Target } from "./backup/s3.ts";
import { BackupService, type BackupServiceOptions } from "./backup/service.ts";
import { scheduleBackups } from "./jobs/backups.ts";
import { removeMediaFiles, runRetention, type RetentionReport } from "./retention.ts";
import type { Store } from "./store/db.ts";
import { mediaFilesOfAccount } from "./store/retention.ts";
import { StorageHealth } from "./store/storageHealth.ts";
import { StorageStatsReader } from "./storageStats.ts";
import { VERSION } from "./version.ts";

/** Leftovers of a backup cut short (a stop, a crash) older than this are removed at start. */
const LEFTOVER_MS = 24 * 3_600_000;

export interface DataStage {
  storage: StorageHealth;
  stats: StorageStatsReader;
  backups: BackupService;
  runRetention(now: number): RetentionReport;
  /** Deletes an account through `remove`; with purge, its media files too, once the rows are gone. */
  removeAccount(id: string, purge: boolean, remove: () => Promise<void>): Promise<void>;
  /** Starts the backup schedule, if one is set. */
  start(): void;
  stop(): void;
}

/** `makeBackup`: on a thread of its own in the daemon; the API tests make backups inline. */
export function startDataStage(config: Config, store: Store, log: Logger, makeBackup: BackupServiceOptions["make"] = backupInThread): DataStage {
  const mediaDir = join(config.dataDir, "media");
  const storage = new StorageHealth(config.dataDir, store, log);
  const stats = new StorageStatsReader(config.dataDir, store, () => storage.problem);
  removeLeftovers(config.backup.dir, config.dataDir, log);
  const backups = new BackupService({
    dataDir: config.dataDir,
    dir: config.backup.dir,
    keep: config.backup.keep,
    s3: config.backup.s3 ? new S3Target(config.backup.s3) : null,
    log,
    version: VERSION,
    make: makeBackup,
  });
  let schedule: { stop(): void } | null = null;
  return {
    storage,
    stats,
    backups,
    runRetention: (now) =>
      runRetention(store, mediaDir, { deliveredDays: config.retentionDays, deadLetterDays: config.deadLetterDays, messageDays: config.messageRetentionDays, mediaTtlMs: config.mediaTtlMs }, now),
    async removeAccount(id, purge, remove) {
      const files = purge ? mediaFilesOfAccount(store, id) : [];
      await remove();
      removeMediaFiles(mediaDir, files);
    },
    start() {
      if (config.backup.cron) schedule = scheduleBackups(config.backup.cron, () => backups.start(true), () => backups.running !== null, log);
    },
    stop() {
      schedule?.stop();
      storage.stop();
    },
  };
}

/** Staging folders and partial archives a backup cut short left behind. */
function removeLeftovers(backupDir: string, dataDir: string, log: Logger): void {
  const now = Date.now();
  const old = (path: string) => now - (statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? now) > LEFTOVER_MS;
  const sweep = (dir: string, match: RegExp) => {
    if (!existsSync(dir)) return;
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (!match.test(name) || !old(path)) continue;
      rmSync(path, { recursive: true, force: true });
      log.info("removed what an interrupted backup left", { path });
    }
  };
  sweep(backupDir, /^(\.wahook-backup-.*|wahook-.*\.tar\.gz\.part)$/);
  sweep(dataDir, /^\.backup-media-/);
}
