// Restores a backup archive into a data folder. Everything is unpacked into a staging
// folder inside the target and checked there first (every file's size and SHA-256 against
// the manifest, the manifest's own checksum, the database's integrity and migration level);
// only when all of it holds do a few renames on that one filesystem move it into place. A
// damaged archive leaves nothing behind.
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, renameSync, rmSync, type WriteStream } from "node:fs";
import { once } from "node:events";
import { basename, dirname, join } from "node:path";
import { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { checkRestoredDatabase } from "../store/snapshot.ts";
import { processesUsing } from "./inUse.ts";
import { BackupError, MANIFEST_ENTRY, parseManifest, type Manifest } from "./manifest.ts";
import { readTar, TarFormatError, type EntrySink } from "./tar.ts";

/** A manifest is a few KB per account; anything near this is not one. */
const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;

export interface RestoreInput {
  /** The archive's bytes (a local file's or an S3 object's stream). */
  source: ReadableStream<Uint8Array>;
  /** For messages: the file or the S3 URL. */
  from: string;
  dataDir: string;
  /** Replace what a folder holds (kept aside in <dir>/.before-restore-<time>). */
  force: boolean;
  /** The migrations this binary knows: a backup from a newer schema is refused. */
  knownMigrations: string[];
}

export interface RestoreResult {
  manifest: Manifest;
  /** Where the folder's previous contents went (inside it), with --force. */
  keptAside: string | null;
}

export async function restoreBackup(input: RestoreInput): Promise<RestoreResult> {
  const existed = existsSync(input.dataDir);
  const dataDir = existed ? realpathSync(input.dataDir) : input.dataDir;
  refuseIfInUse(dataDir);
  if (existed && readdirSync(dataDir).length > 0 && !input.force) {
    throw new BackupError(`${dataDir} is not empty; pass --force to replace its contents (they are kept in ${join(dataDir, ".before-restore-<time>")})`);
  }
  // Unpacked inside the folder itself: renames then stay on its filesystem, also when the
  // folder is a mount point (a Docker volume), which could not be replaced as a whole.
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const staging = mkdtempSync(join(dataDir, ".restoring-"));
  try {
    const manifest = await unpackVerified(input.source, staging, input.knownMigrations, input.from);
    checkDatabase(join(staging, "wahook.db"), manifest);
    // Checked again right before the switch: a daemon started meanwhile must not lose its folder.
    refuseIfInUse(dataDir);
    const old = readdirSync(dataDir).filter((name) => name !== basename(staging));
    let keptAside: string | null = null;
    if (old.length) {
      keptAside = join(dataDir, `.before-restore-${new Date().toISOString().replace(/[:.]/g, "-")}`);
      mkdirSync(keptAside, { mode: 0o700 });
      for (const name of old) renameSync(join(dataDir, name), join(keptAside, name));
    }
    for (const name of readdirSync(staging)) renameSync(join(staging, name), join(dataDir, name));
    return { manifest, keptAside };
  } catch (error) {
    // Nothing of a refused archive stays: not its files, not a folder made for it.
    if (!existed) rmSync(dataDir, { recursive: true, force: true });
    throw error;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

function refuseIfInUse(dataDir: string): void {
  const pids = processesUsing(dataDir);
  if (pids === null && existsSync(join(dataDir, "wahook.db-shm"))) {
    throw new BackupError(`${dataDir} may be in use (its database has a shared-memory file and this system cannot tell who holds it); stop wahook first`);
  }
  if (pids?.length) throw new BackupError(`${dataDir} is in use by process ${pids.join(", ")} (a running wahook?); stop it first, then restore`);
}

/** Unpacks the archive into `into`, checking every entry against the manifest as it goes. */
async function unpackVerified(source: ReadableStream<Uint8Array>, into: string, knownMigrations: string[], from: string): Promise<Manifest> {
  let manifest: Manifest | null = null;
  const seen = new Set<string>();
  const gunzip = Readable.fromWeb(source as never).pipe(createGunzip());
  const damaged = (why: string) => new BackupError(`${basename(from)} is damaged or not a wahook backup: ${why}; nothing was restored`);
  try {
    await readTar(gunzip, (entry): EntrySink => {
      if (!manifest) {
        if (entry.name !== MANIFEST_ENTRY || entry.size > MAX_MANIFEST_BYTES) throw new BackupError("this is not a wahook backup (it does not start with its manifest)");
        const parts: Uint8Array[] = [];
        return {
          write: (chunk) => void parts.push(Buffer.from(chunk)),
          end: () => void (manifest = parseManifest(Buffer.concat(parts).toString("utf8"), knownMigrations)),
        };
      }
      const expected = manifest.files.find((f) => f.path === entry.name);
      if (!expected || seen.has(entry.name)) throw damaged(`it holds ${JSON.stringify(entry.name)}, which its manifest does not list`);
      if (expected.size !== entry.size) throw damaged(`${entry.name} has ${entry.size} bytes, its manifest says ${expected.size}`);
      seen.add(entry.name);
      return fileSink(join(into, entry.name), expected.sha256, (actual) => damaged(`${entry.name}'s checksum is ${actual.slice(0, 12)}…, its manifest says ${expected.sha256.slice(0, 12)}…`));
    });
  } catch (error) {
    if (error instanceof BackupError) throw error;
    if (error instanceof TarFormatError) throw damaged(error.message);
    const code = (error as NodeJS.ErrnoException).code;
    if (code?.startsWith("Z_") || code === "ERR_ZLIB") throw damaged(`the compressed data is corrupt (${(error as Error).message})`);
    throw error;
  } finally {
    gunzip.destroy();
  }
  const m = manifest as Manifest | null;
  if (!m) throw damaged("it holds no manifest");
  const missing = m.files.filter((f) => !seen.has(f.path)).map((f) => f.path);
  if (missing.length) throw damaged(`${missing.length} file(s) its manifest lists are missing (${missing.slice(0, 3).join(", ")})`);
  return m;
}

/** Writes an entry to `path` (owner-only), hashing it; at the end the hash must be `sha256`. */
function fileSink(path: string, sha256: string, mismatch: (actual: string) => Error): EntrySink {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const out: WriteStream = createWriteStream(path, { mode: 0o600, flags: "wx" });
  // A write error (a full disk) is raised at the next write or at the end, not left unhandled.
  let failed: Error | null = null;
  out.on("error", (error) => (failed = error));
  const hasher = new Bun.CryptoHasher("sha256");
  return {
    async write(chunk) {
      if (failed) throw failed;
      hasher.update(chunk);
      if (!out.write(chunk)) await once(out, "drain");
    },
    async end() {
      await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
      if (failed) throw failed;
      const actual = hasher.digest("hex");
      if (actual !== sha256) throw mismatch(actual);
    },
  };
}

/** The restored database opens, passes SQLite's own check and is at the manifest's migration level. */
function checkDatabase(file: string, manifest: Manifest): void {
  let found: { check: string; migrations: string[] };
  try {
    found = checkRestoredDatabase(file);
  } catch (error) {
    throw new BackupError(`the database in the archive cannot be read (${(error as Error).message}); nothing was restored`);
  }
  if (found.check !== "ok") throw new BackupError(`the database in the archive fails SQLite's check (${found.check}); nothing was restored`);
  if (found.migrations.join(",") !== manifest.schema.migrations.join(",")) throw new BackupError("the database's migrations differ from what its manifest says; nothing was restored");
}
