// What the routes are given: the store, the settings, and the other stages as callbacks.
// Its own module so that route files and app.ts, which imports them, do not import each other.
import type { BackupService } from "../backup/service.ts";
import type { Config } from "../config.ts";
import type { Ordering, TargetVerdict } from "../domain.ts";
import type { Logger } from "../log.ts";
import type { AccountRow } from "../store/accounts.ts";
import type { BackfillRow } from "../store/backfills.ts";
import type { Store } from "../store/db.ts";
import type { StorageProblem } from "../store/storageHealth.ts";
import type { StorageStats } from "../storageStats.ts";
import type { AccountProblem } from "./views.ts";

export interface AppDeps {
  store: Store;
  config: Config;
  log: Logger;
  version: string;
  startedAt: number;
  /** Is this webhook URL an allowed target? (delivery/targetCheck.ts, wired by wiring/api.ts) */
  checkTarget(url: string): Promise<TargetVerdict>;
  /** The delivery stage, as callbacks (wiring/api.ts wires them to the worker and ingest). */
  delivery: {
    /** Queues a `webhook.test` event; returns the delivery id. */
    sendTest(webhookId: string, ordering: Ordering): string;
    /** Wakes the worker after rows became due (replay, enable, ordering change). */
    wake(): void;
    /** Prometheus text for /metrics. */
    metrics(): string;
  };
  /** The WhatsApp stage (src/wa/accounts.ts), as callbacks. Errors are ApiErrors. */
  accounts: {
    create(name: string, email: string | null): Promise<AccountRow>;
    qr(id: string): Promise<{ qr: string; expires_at: string; png_data_url: string }>;
    pairingCode(id: string, phone: string): Promise<{ code: string }>;
    logout(id: string): Promise<AccountRow>;
    restart(id: string): Promise<AccountRow>;
    /** Why the account cannot connect right now (shown with it), or null. */
    problem(id: string): AccountProblem | null;
    /** Calls `fn` after every visible change of the account (state, QR); returns the unsubscribe. */
    watch(id: string, fn: () => void): () => void;
    /** The QR on offer now, without starting a pairing. */
    currentQr(id: string): Promise<{ qr: string; expires_at: string; png_data_url: string } | null>;
    /** Logs a linked device out first (bounded), then deletes. */
    remove(id: string, purge: boolean): Promise<void>;
  };
  /** The backfill stage (src/backfill/runner.ts), as callbacks. */
  backfills: {
    /** A job was created or changed state: look at it now rather than at the next second. */
    wake(): void;
    /** Ends a job as cancelled (counts frozen, `backfill.finished` queued); null if it had ended. */
    cancel(id: string): BackfillRow | null;
  };
  /** Backups (src/backup/service.ts): make, list, open, remove. */
  backups: Pick<BackupService, "start" | "list" | "open" | "remove" | "running" | "lastFailure">;
  /** The data folder's disk: a full one refuses writes (store/storageHealth.ts); sizes and rows (storageStats.ts). */
  storage: { problem(): StorageProblem | null; stats(): Promise<StorageStats> };
  /** Where downloaded media lives and the key its links are signed with. */
  media: { dir: string; key: Buffer };
}
