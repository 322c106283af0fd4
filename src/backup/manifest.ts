// What a backup archive says about itself: the first entry of every archive, so a listing
// or a restore knows what it holds (version, migration level, accounts, counts) before
// reading the rest, and a checksum per file that a restore verifies byte for byte.
import type { AccountSummary, QueueCounts, RowCounts } from "../store/stats.ts";

export const MANIFEST_ENTRY = "manifest.json";
export const DATABASE_ENTRY = "wahook.db";
export const MEDIA_PREFIX = "media/";
export const MANIFEST_FORMAT = 1;

/** Media files are named by their media id (store/media.ts); nothing else is accepted back. */
const MEDIA_NAME = /^[A-Za-z0-9_-]{1,80}$/;

export interface ManifestFile {
  path: string;
  size: number;
  sha256: string;
}

export interface Manifest {
  kind: "wahook-backup";
  format: number;
  wahook_version: string;
  created_at: string;
  /** The migrations applied to the database in the archive; `migration` is the last. */
  schema: { migration: string | null; migrations: string[] };
  accounts: AccountSummary[];
  counts: { rows: RowCounts; queue: QueueCounts; media_files: number; media_bytes: number; database_bytes: number };
  /** wahook.db first, then media/<id>. */
  files: ManifestFile[];
  /** SHA-256 over the `sha256sum` lines of `files`: one value that covers every byte. */
  checksum: string;
  /** A reminder for whoever finds the file: it must be kept like the data folder. */
  contains: string;
}

export const CONTAINS =
  "WhatsApp credentials of every account (a restore reconnects without pairing), webhook signing secrets, API key hashes and the media link key: keep this file as private as the data folder";

export class BackupError extends Error {}

export function contentChecksum(files: ManifestFile[]): string {
  const lines = files.map((f) => `${f.sha256}  ${f.path}\n`).join("");
  return new Bun.CryptoHasher("sha256").update(lines).digest("hex");
}

export function isAllowedEntry(path: string): boolean {
  return path === DATABASE_ENTRY || (path.startsWith(MEDIA_PREFIX) && MEDIA_NAME.test(path.slice(MEDIA_PREFIX.length)));
}

/**
 * The manifest as read from an archive, checked for what a restore relies on. Throws a
 * BackupError saying what is wrong; `knownMigrations` are the ones this binary has.
 */
export function parseManifest(text: string, knownMigrations: string[]): Manifest {
  let m: Manifest;
  try {
    m = JSON.parse(text) as Manifest;
  } catch {
    throw new BackupError("the archive's manifest is not valid JSON: the archive is damaged");
  }
  if (m?.kind !== "wahook-backup") throw new BackupError("this is not a wahook backup (its first entry is not a wahook manifest)");
  if (m.format !== MANIFEST_FORMAT) throw new BackupError(`this backup has format ${m.format}; this wahook reads format ${MANIFEST_FORMAT} (use the version that made it: ${m.wahook_version})`);
  if (!Array.isArray(m.files) || m.files[0]?.path !== DATABASE_ENTRY) throw new BackupError("the manifest lists no database: the archive is damaged");
  for (const f of m.files) {
    if (!isAllowedEntry(f.path) || !Number.isSafeInteger(f.size) || f.size < 0 || !/^[0-9a-f]{64}$/.test(f.sha256)) throw new BackupError(`the manifest lists an entry wahook never writes (${JSON.stringify(f.path)}): refused`);
  }
  if (contentChecksum(m.files) !== m.checksum) throw new BackupError("the manifest's checksum does not match its file list: the archive is damaged");
  const known = new Set(knownMigrations);
  const newer = (m.schema?.migrations ?? []).filter((t) => !known.has(t));
  if (newer.length) throw new BackupError(`this backup was made by a newer wahook (${m.wahook_version}; migrations ${newer.join(", ")}); restore it with that version or newer`);
  return m;
}
