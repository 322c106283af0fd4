// Makes one backup archive of a data folder while the daemon keeps running: a consistent
// snapshot of the database (store/snapshot.ts), the media files the snapshot says exist, and a manifest with a checksum per file, as one tar.gz, owner-only.
// Written under a temporary name and renamed once complete and synced: an archive that
// exists is whole.
import { closeSync, copyFileSync, existsSync, fsyncSync, linkSync, mkdirSync, mkdtempSync, openSync, renameSync, rmSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { createWriteStream } from "node:fs";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import { snapshotDatabase, summarizeSnapshot } from "../store/snapshot.ts";
import { isNoSpace } from "../store/storageHealth.ts";
import { BackupError, CONTAINS, DATABASE_ENTRY, MANIFEST_ENTRY, MANIFEST_FORMAT, MEDIA_PREFIX, contentChecksum, type Manifest, type ManifestFile } from "./manifest.ts";
import { TAR_END, tarHeader, tarPadding } from "./tar.ts";

/**
 * gzip level: 1 compresses a wahook database about as well as 6 (mostly JSON and ids) at
 * a fraction of the CPU, and the CPU is shared with live traffic while a backup runs.
 */
const GZIP_LEVEL = 1;

export interface CreateBackupInput {
  /** The live database (data folder/wahook.db). */
  dbFile: string;
  /** The media folder (data folder/media). */
  mediaDir: string;
  /** Where the archive goes; must not exist yet. */
  out: string;
  version: string;
}

export interface BackupResult {
  path: string;
  /** Bytes of the archive. */
  size: number;
  manifest: Manifest;
  ms: number;
}

export interface BackupHooks {
  /** The snapshot is taken (the database is no longer read): the rest may go slowly. */
  afterSnapshot?(): void;
}

export async function createBackup(input: CreateBackupInput, hooks: BackupHooks = {}): Promise<BackupResult> {
  const t0 = performance.now();
  // Before anything is created: a wrong WAHOOK_DATA_DIR must not leave folders behind.
  if (!existsSync(input.dbFile)) throw new BackupError(`no wahook database at ${input.dbFile}; check WAHOOK_DATA_DIR`);
  mkdirSync(dirname(input.out), { recursive: true, mode: 0o700 });
  // The snapshot goes beside the archive; links to the media files beside the media (a
  // hard link needs the same filesystem), so a file that retention removes meanwhile is
  // still there for the archive.
  const stage = mkdtempSync(join(dirname(input.out), ".wahook-backup-"));
  const mediaStage = mkdtempSync(join(dirname(input.mediaDir), ".backup-media-"));
  const part = `${input.out}.part`;
  try {
    const snapshot = join(stage, DATABASE_ENTRY);
    try {
      snapshotDatabase(input.dbFile, snapshot);
    } catch (error) {
      if (isNoSpace(error)) throw error;
      throw new BackupError(`no readable wahook database at ${input.dbFile} (${(error as Error).message}); check WAHOOK_DATA_DIR`);
    }
    hooks.afterSnapshot?.();
    const summary = summarizeSnapshot(snapshot);
    const sources = new Map<string, string>([[DATABASE_ENTRY, snapshot]]);
    for (const name of summary.media) {
      const staged = stageMedia(join(input.mediaDir, name), join(mediaStage, name));
      // Gone before the snapshot's file could be linked (retention): the restored link
      // answers "no longer stored", as the live one would now.
      if (staged) sources.set(`${MEDIA_PREFIX}${name}`, staged);
    }
    const files: ManifestFile[] = [];
    for (const [path, file] of sources) files.push({ path, size: statSync(file).size, sha256: await sha256File(file) });
    const mediaFiles = files.slice(1);
    const manifest: Manifest = {
      kind: "wahook-backup",
      format: MANIFEST_FORMAT,
      wahook_version: input.version,
      created_at: new Date().toISOString(),
      schema: { migration: summary.migrations.at(-1) ?? null, migrations: summary.migrations },
      accounts: summary.accounts,
      counts: {
        rows: summary.rows,
        queue: summary.queue,
        media_files: mediaFiles.length,
        media_bytes: mediaFiles.reduce((n, f) => n + f.size, 0),
        database_bytes: summary.databaseBytes,
      },
      files,
      checksum: contentChecksum(files),
      contains: CONTAINS,
    };
    await writeArchive(part, manifest, sources);
    syncFile(part);
    renameSync(part, input.out);
    return { path: input.out, size: statSync(input.out).size, manifest, ms: performance.now() - t0 };
  } finally {
    rmSync(stage, { recursive: true, force: true });
    rmSync(mediaStage, { recursive: true, force: true });
    rmSync(part, { force: true });
  }
}

function stageMedia(from: string, to: string): string | null {
  try {
    linkSync(from, to);
    return to;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return null;
    // Another filesystem (a mounted media folder) or links not allowed: a copy holds too.
    if (code === "EXDEV" || code === "EPERM" || code === "EMLINK") {
      copyFileSync(from, to);
      return to;
    }
    throw error;
  }
}

async function* chunksOf(path: string): AsyncGenerator<Uint8Array> {
  const reader = Bun.file(path).stream().getReader();
  for (let read = await reader.read(); !read.done; read = await reader.read()) yield read.value;
}

async function sha256File(path: string): Promise<string> {
  const hasher = new Bun.CryptoHasher("sha256");
  for await (const chunk of chunksOf(path)) hasher.update(chunk);
  return hasher.digest("hex");
}

async function* tarEntries(manifest: Manifest, sources: Map<string, string>): AsyncGenerator<Uint8Array> {
  const mtime = Date.parse(manifest.created_at) / 1000;
  const manifestBytes = Buffer.from(JSON.stringify(manifest, null, 2));
  yield tarHeader({ name: MANIFEST_ENTRY, size: manifestBytes.length, mtime });
  yield manifestBytes;
  yield tarPadding(manifestBytes.length);
  for (const f of manifest.files) {
    yield tarHeader({ name: f.path, size: f.size, mtime });
    let written = 0;
    for await (const chunk of chunksOf(sources.get(f.path)!)) {
      written += chunk.length;
      yield chunk;
    }
    if (written !== f.size) throw new BackupError(`${f.path} changed while it was archived`);
    yield tarPadding(f.size);
  }
  yield TAR_END;
}

async function writeArchive(path: string, manifest: Manifest, sources: Map<string, string>): Promise<void> {
  await pipeline(Readable.from(tarEntries(manifest, sources)), createGzip({ level: GZIP_LEVEL }), createWriteStream(path, { mode: 0o600, flags: "wx" }));
}

function syncFile(path: string): void {
  const fd = openSync(path, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
