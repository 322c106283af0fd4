// What the data folder holds and how full its disk is: GET /v1/stats and the storage
// gauges of /metrics. Rows are counted on request; the media folder is walked at most
// every 30 s (it can hold hundreds of thousands of files), asynchronously, so neither a
// scrape nor a stats call stalls the main thread.
import { statfsSync } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { databaseSize, queueCounts, rowCounts, type QueueCounts, type RowCounts } from "./store/stats.ts";
import type { Store } from "./store/db.ts";
import type { StorageProblem } from "./store/storageHealth.ts";

const MEDIA_WALK_MS = 30_000;

export interface StorageStats {
  storage: { status: "ok" | "full"; reason: string | null; since: number | null; disk_free_bytes: number | null; disk_total_bytes: number | null };
  database: { bytes: number; wal_bytes: number; free_bytes: number };
  media: { bytes: number; files: number; measured_at: number };
  rows: RowCounts;
  queue: QueueCounts;
}

export interface StorageSizes {
  databaseBytes: number;
  walBytes: number;
  mediaBytes: number;
  mediaFiles: number;
  diskFreeBytes: number | null;
  full: boolean;
}

export class StorageStatsReader {
  private media: { bytes: number; files: number; measured_at: number } | null = null;
  private walking: Promise<void> | null = null;

  constructor(
    private readonly dataDir: string,
    private readonly store: Store,
    private readonly problem: () => StorageProblem | null,
  ) {}

  async read(now = Date.now()): Promise<StorageStats> {
    await this.refreshMedia(now);
    const disk = this.disk();
    const problem = this.problem();
    return {
      storage: { status: problem ? "full" : "ok", reason: problem?.reason ?? null, since: problem?.since ?? null, disk_free_bytes: disk?.free ?? null, disk_total_bytes: disk?.total ?? null },
      database: databaseSize(this.store),
      media: this.media!,
      rows: rowCounts(this.store),
      queue: queueCounts(this.store),
    };
  }

  /** Cheap figures for a scrape: sizes only (the media folder as last walked, a walk started if stale). */
  sizes(now = Date.now()): StorageSizes {
    void this.refreshMedia(now);
    const database = databaseSize(this.store);
    return {
      databaseBytes: database.bytes,
      walBytes: database.wal_bytes,
      mediaBytes: this.media?.bytes ?? 0,
      mediaFiles: this.media?.files ?? 0,
      diskFreeBytes: this.disk()?.free ?? null,
      full: this.problem() !== null,
    };
  }

  private disk(): { free: number; total: number } | null {
    try {
      const s = statfsSync(this.dataDir);
      return { free: s.bavail * s.bsize, total: s.blocks * s.bsize };
    } catch {
      return null;
    }
  }

  private refreshMedia(now: number): Promise<void> {
    if (this.media && now - this.media.measured_at < MEDIA_WALK_MS) return Promise.resolve();
    this.walking ??= walk(join(this.dataDir, "media"))
      .then((m) => void (this.media = { ...m, measured_at: now }))
      .finally(() => (this.walking = null));
    return this.walking;
  }
}

async function walk(dir: string): Promise<{ bytes: number; files: number }> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return { bytes: 0, files: 0 };
  }
  let bytes = 0;
  let files = 0;
  for (const name of names) {
    const s = await stat(join(dir, name)).catch(() => null);
    if (!s?.isFile()) continue;
    bytes += s.size;
    files++;
  }
  return { bytes, files };
}

/** Prometheus lines for the storage gauges. */
export function renderStorageMetrics(s: StorageSizes): string {
  const gauge = (name: string, help: string, value: number) => [`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, `${name} ${value}`];
  const out = [
    ...gauge("wahook_database_bytes", "Size of the SQLite database file.", s.databaseBytes),
    ...gauge("wahook_wal_bytes", "Size of the SQLite write-ahead log.", s.walBytes),
    ...gauge("wahook_media_bytes", "Bytes of downloaded media in the data folder (walked at most every 30 s).", s.mediaBytes),
    ...gauge("wahook_media_files", "Downloaded media files in the data folder.", s.mediaFiles),
    ...gauge("wahook_storage_full", "1 while the data folder's disk refuses writes (WhatsApp receipts are held meanwhile).", s.full ? 1 : 0),
  ];
  if (s.diskFreeBytes !== null) out.push(...gauge("wahook_disk_free_bytes", "Free space on the data folder's file system.", s.diskFreeBytes));
  return out.join("\n") + "\n";
}
