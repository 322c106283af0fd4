// Whether the data folder's disk takes writes. Nothing is lost while it does not: the
// group commit keeps what WhatsApp sent queued and its receipts held (WhatsApp keeps the
// messages), the delivery worker keeps its answers until they can be recorded, and both
// retry by themselves. This only tells people: /health turns `degraded` with the reason,
// API writes answer 507 `storage_full`, and a probe notices when space is back.
import { statfsSync } from "node:fs";
import type { Logger } from "../log.ts";
import type { Store } from "./db.ts";
import { kvSet } from "./kv.ts";

/** SQLite's "database or disk is full" and the file system's own words for it. */
const NO_SPACE_CODES = new Set(["SQLITE_FULL", "ENOSPC", "EDQUOT"]);

export function isNoSpace(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && (NO_SPACE_CODES.has(code) || code.startsWith("SQLITE_FULL"));
}

/** Below this much free space a probe does not even try a write. */
const PROBE_MIN_FREE_BYTES = 1024 * 1024;
const PROBE_MS = 1_000;

export interface StorageProblem {
  kind: "disk_full";
  /** A sentence for /health and the API's 507 answers. */
  reason: string;
  since: number;
}

export class StorageHealth {
  private current: StorageProblem | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly dir: string,
    private readonly store: Store,
    private readonly log: Logger,
    private readonly probeMs = PROBE_MS,
  ) {}

  get problem(): StorageProblem | null {
    return this.current;
  }

  /**
   * Called with any error of a write (a commit, a file): a full disk is remembered until a
   * probe finds space again; returns whether it was one.
   */
  report = (error: unknown): boolean => {
    if (!isNoSpace(error)) return false;
    if (!this.current) {
      this.current = { kind: "disk_full", since: Date.now(), reason: `the disk holding ${this.dir} is full: writes fail; nothing is lost, WhatsApp keeps what it sends until it can be stored. Free space and wahook resumes by itself.` };
      this.log.error("the data folder's disk is full; holding WhatsApp's receipts until writes work again", { dir: this.dir, free_bytes: this.freeBytes() });
      this.timer = setInterval(this.probe, this.probeMs);
      this.timer.unref();
    }
    return true;
  };

  /** Free bytes for this user on the data folder's file system, or null if it cannot be told. */
  freeBytes(): number | null {
    try {
      const s = statfsSync(this.dir);
      return s.bavail * s.bsize;
    } catch {
      return null;
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private probe = (): void => {
    const free = this.freeBytes();
    if (free !== null && free < PROBE_MIN_FREE_BYTES) return;
    try {
      this.store.sqlite.transaction(() => kvSet(this.store, "storage_probe", String(Date.now()))).immediate();
    } catch (error) {
      if (!isNoSpace(error)) this.log.warn("storage probe failed", { error: (error as Error).message });
      return;
    }
    this.log.info("the data folder's disk takes writes again", { dir: this.dir, free_bytes: free, full_for_s: Math.round((Date.now() - this.current!.since) / 1000) });
    this.current = null;
    this.stop();
  };
}
