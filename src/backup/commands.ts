// `wahook backup [FILE]` and `wahook restore SOURCE --data-dir DIR [--force]`: exit 0 when
// done, 1 when refused or failed (one line on stderr saying why and what to do).
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import type { RestoreCommand } from "../cli.ts";
import type { Config } from "../config.ts";
import { embeddedTags } from "../store/migrations.ts";
import { VERSION } from "../version.ts";
import { createBackup } from "./create.ts";
import { BackupError, type Manifest } from "./manifest.ts";
import { restoreBackup } from "./restore.ts";
import { describeS3Error, S3Target } from "./s3.ts";
import { backupName } from "./service.ts";

type Print = (line: string) => void;

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

function fail(what: string, error: unknown): number {
  const message = error instanceof BackupError ? error.message : ((error as { code?: string }).code === "NoSuchKey" ? "no such key in the bucket" : ((error as Error).message ?? String(error)));
  process.stderr.write(`wahook: ${what}: ${message}\n`);
  return 1;
}

export async function runBackupCommand(config: Config, file: string | null, print: Print): Promise<number> {
  // The archive holds credentials: whatever this run creates is the owner's only.
  process.umask(0o077);
  const name = backupName(Date.now(), false);
  const out = file ? resolve(file) : join(config.backup.dir, name);
  if (existsSync(out)) return fail("backup refused", new BackupError(`${out} exists; choose another file`));
  try {
    const r = await createBackup({ dbFile: join(config.dataDir, "wahook.db"), mediaDir: join(config.dataDir, "media"), out, version: VERSION });
    print(`wrote ${r.path} (${mb(r.size)}) in ${(r.ms / 1000).toFixed(1)} s: ${describe(r.manifest)}`);
    if (!file && config.backup.s3) {
      const s3 = new S3Target(config.backup.s3);
      try {
        await s3.upload(r.path, name);
      } catch (error) {
        return fail("backup written locally, but the upload to S3 failed", new BackupError(describeS3Error(error)));
      }
      print(`uploaded to ${s3.describe(name)}`);
    }
    print("It holds WhatsApp credentials and webhook secrets: keep it as private as the data folder.");
    return 0;
  } catch (error) {
    return fail("backup failed", error);
  }
}

export async function runRestoreCommand(config: Config, cmd: RestoreCommand, print: Print): Promise<number> {
  process.umask(0o077);
  let source: ReadableStream<Uint8Array>;
  let from: string;
  try {
    if (existsSync(cmd.source)) {
      source = Bun.file(cmd.source).stream();
      from = resolve(cmd.source);
    } else if (config.backup.s3) {
      const s3 = new S3Target(config.backup.s3);
      const name = s3.nameOf(cmd.source);
      from = s3.describe(name);
      if (!(await s3.exists(name))) throw new BackupError(`no file ${cmd.source} here and no ${from} in the bucket`);
      source = s3.stream(name);
    } else {
      throw new BackupError(`no file ${cmd.source} (to restore from S3, set WAHOOK_BACKUP_S3_BUCKET and its keys)`);
    }
  } catch (error) {
    return fail("restore refused", error);
  }
  const dataDir = resolve(cmd.dataDir);
  try {
    const { manifest, keptAside } = await restoreBackup({ source, from, dataDir, force: cmd.force, knownMigrations: embeddedTags() });
    print(`restored ${from} into ${dataDir}: ${describe(manifest)}`);
    print(`  made by wahook ${manifest.wahook_version} at ${manifest.created_at}; schema ${manifest.schema.migration ?? "(empty)"}`);
    for (const a of manifest.accounts) print(`  account ${a.id} ${JSON.stringify(a.name)}${a.phone ? ` +${a.phone}` : ""}: ${a.paired ? "paired, reconnects without pairing" : "not paired"}`);
    if (keptAside) print(`  what ${dataDir} held before is kept in ${keptAside}`);
    print(`Start wahook with WAHOOK_DATA_DIR=${dataDir}: its queue resumes where the backup was.`);
    print(`Messages WhatsApp handed to the old daemon after ${manifest.created_at} are not in this backup (see README, "Backups and restore").`);
    return 0;
  } catch (error) {
    return fail("restore refused", error);
  }
}

function describe(m: Manifest): string {
  const q = m.counts.queue;
  return [
    `${m.accounts.length} account(s)`,
    `${m.counts.rows.messages?.messages ?? 0} messages`,
    `${q.pending + q.in_flight} deliveries queued`,
    `${q.failed} dead letters`,
    `${m.counts.media_files} media files (${mb(m.counts.media_bytes)})`,
  ].join(", ");
}
