// Backups as the daemon makes them: one at a time, on a thread of their own, into
// WAHOOK_BACKUP_DIR and, when configured, uploaded to S3; the scheduled ones pruned to the
// last WAHOOK_BACKUP_KEEP. Listing, download and deletion read both places.
import { existsSync, readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { ApiError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { BackupResult, CreateBackupInput } from "./create.ts";
import type { Manifest } from "./manifest.ts";
import { peekManifest } from "./peek.ts";
import { describeS3Error, type S3Target } from "./s3.ts";

/** wahook-[auto-]2026-12-05T03-00-00-000Z.tar.gz: sorts by time, safe in any path. */
export const BACKUP_NAME = /^wahook-(auto-)?(\d{4}-\d{2}-\d{2})T(\d{2})-(\d{2})-(\d{2})-(\d{3})Z\.tar\.gz$/;

export function backupName(now: number, auto: boolean): string {
  const stamp = new Date(now).toISOString().replace(/:/g, "-").replace(".", "-");
  return `wahook-${auto ? "auto-" : ""}${stamp}.tar.gz`;
}

/** When the archive was started, from its name; null for a name that is not ours. */
export function backupTime(name: string): number | null {
  const m = BACKUP_NAME.exec(name);
  return m ? Date.parse(`${m[2]}T${m[3]}:${m[4]}:${m[5]}.${m[6]}Z`) : null;
}

export interface RunningBackup {
  name: string;
  startedAt: number;
  auto: boolean;
}

export interface BackupFailure {
  name: string;
  at: number;
  error: string;
}

export interface BackupListing {
  name: string;
  createdAt: number;
  auto: boolean;
  /** Bytes of the archive (local copy, else the S3 object). */
  size: number;
  local: boolean;
  s3Key: string | null;
  /** Read from a local copy; null when there is none. */
  manifest: Manifest | null;
}

export interface BackupServiceOptions {
  dataDir: string;
  dir: string;
  keep: number;
  s3: S3Target | null;
  log: Logger;
  version: string;
  /** Makes one archive (backupInThread in the daemon; inline in some tests). */
  make(input: CreateBackupInput): Promise<BackupResult>;
  now?: () => number;
}

export class BackupService {
  running: RunningBackup | null = null;
  lastFailure: BackupFailure | null = null;
  private current: Promise<void> = Promise.resolve();
  private readonly manifests = new Map<string, { mtimeMs: number; manifest: Manifest | null }>();
  private readonly now: () => number;

  constructor(private readonly opts: BackupServiceOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** Starts a backup; it runs on after this returns (see `running`, `idle()`). */
  start(auto = false): RunningBackup {
    if (this.running) throw new ApiError("backup_running", `Backup ${this.running.name} is being made right now; wait until GET /v1/backups no longer shows it under \`running\`.`);
    const running: RunningBackup = { name: backupName(this.now(), auto), startedAt: this.now(), auto };
    this.running = running;
    this.current = this.run(running).finally(() => {
      this.running = null;
    });
    return running;
  }

  /** Resolves once no backup runs (tests, shutdown). */
  idle(): Promise<void> {
    return this.current;
  }

  private async run({ name, auto }: RunningBackup): Promise<void> {
    const { log, s3 } = this.opts;
    let result: BackupResult;
    try {
      result = await this.opts.make({
        dbFile: join(this.opts.dataDir, "wahook.db"),
        mediaDir: join(this.opts.dataDir, "media"),
        out: join(this.opts.dir, name),
        version: this.opts.version,
      });
    } catch (error) {
      const message = (error as Error).message ?? String(error);
      this.lastFailure = { name, at: this.now(), error: message };
      log.error("backup failed", { name, error: message });
      return;
    }
    log.info("backup written", { name, bytes: result.size, ms: Math.round(result.ms), accounts: result.manifest.accounts.length });
    if (s3) {
      try {
        await s3.upload(result.path, name);
        log.info("backup uploaded", { name, to: s3.describe(name) });
      } catch (error) {
        this.lastFailure = { name, at: this.now(), error: `written locally, but the upload to S3 failed: ${describeS3Error(error)}` };
        log.error("backup upload to S3 failed; the archive is kept locally", { name, error: describeS3Error(error) });
      }
    }
    if (auto) await this.prune();
  }

  /**
   * Every archive, newest first, local and in S3 (merged by name). An S3 store that does
   * not answer leaves the local ones listed, and says why in `s3Error`.
   */
  async list(): Promise<{ backups: BackupListing[]; s3Error: string | null }> {
    const byName = new Map<string, BackupListing>();
    for (const name of this.localNames()) {
      const path = join(this.opts.dir, name);
      const stat = statSync(path, { throwIfNoEntry: false });
      if (!stat) continue;
      byName.set(name, { name, createdAt: backupTime(name)!, auto: name.startsWith("wahook-auto-"), size: stat.size, local: true, s3Key: null, manifest: await this.manifestOf(name, path, stat.mtimeMs) });
    }
    let s3Error: string | null = null;
    if (this.opts.s3) {
      try {
        for (const o of await this.opts.s3.list()) {
          if (!BACKUP_NAME.test(o.name)) continue;
          const known = byName.get(o.name);
          if (known) known.s3Key = o.key;
          else byName.set(o.name, { name: o.name, createdAt: backupTime(o.name)!, auto: o.name.startsWith("wahook-auto-"), size: o.size, local: false, s3Key: o.key, manifest: null });
        }
      } catch (error) {
        s3Error = describeS3Error(error);
        this.opts.log.warn("could not list the backups in S3", { error: s3Error });
      }
    }
    return { backups: [...byName.values()].sort((a, b) => b.createdAt - a.createdAt || b.name.localeCompare(a.name)), s3Error };
  }

  /** The local archive's path, or null. */
  localPath(name: string): string | null {
    if (!BACKUP_NAME.test(name)) return null;
    const path = join(this.opts.dir, name);
    return existsSync(path) ? path : null;
  }

  /** The archive's bytes from the local copy or S3; null when neither has it. */
  async open(name: string): Promise<Blob | ReadableStream<Uint8Array> | null> {
    const path = this.localPath(name);
    if (path) return Bun.file(path);
    if (this.opts.s3 && BACKUP_NAME.test(name) && (await this.opts.s3.exists(name))) return this.opts.s3.stream(name);
    return null;
  }

  /** Removes the archive everywhere it is; false when it was nowhere. */
  async remove(name: string): Promise<boolean> {
    if (this.running?.name === name) throw new ApiError("backup_running", "This backup is still being made; delete it once it is finished.");
    let removed = false;
    const path = this.localPath(name);
    if (path) {
      rmSync(path, { force: true });
      this.manifests.delete(name);
      removed = true;
    }
    if (this.opts.s3 && BACKUP_NAME.test(name) && (await this.opts.s3.exists(name))) {
      await this.opts.s3.remove(name);
      removed = true;
    }
    return removed;
  }

  /** Scheduled backups beyond the newest `keep` go, locally and in S3; manual ones stay. */
  private async prune(): Promise<void> {
    const { keep, log, s3 } = this.opts;
    const autoOnly = (names: string[]) => names.filter((n) => n.startsWith("wahook-auto-")).sort().reverse().slice(keep);
    for (const name of autoOnly(this.localNames())) {
      rmSync(join(this.opts.dir, name), { force: true });
      this.manifests.delete(name);
      log.info("old scheduled backup removed", { name, keep });
    }
    if (!s3) return;
    try {
      for (const name of autoOnly((await s3.list()).map((o) => o.name).filter((n) => BACKUP_NAME.test(n)))) {
        await s3.remove(name);
        log.info("old scheduled backup removed from S3", { name, keep });
      }
    } catch (error) {
      log.error("could not prune old backups in S3", { error: describeS3Error(error) });
    }
  }

  private localNames(): string[] {
    if (!existsSync(this.opts.dir)) return [];
    return readdirSync(this.opts.dir).filter((n) => BACKUP_NAME.test(n));
  }

  private async manifestOf(name: string, path: string, mtimeMs: number): Promise<Manifest | null> {
    const cached = this.manifests.get(name);
    if (cached?.mtimeMs === mtimeMs) return cached.manifest;
    const manifest = await peekManifest(Bun.file(path).stream());
    this.manifests.set(name, { mtimeMs, manifest });
    return manifest;
  }
}
