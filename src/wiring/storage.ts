// The storage stage of the daemon: the data folder, the database and what keeps them
// (health, backups, retention, WAL checkpoints, the group commit), and the admin key.
import { join } from "node:path";
import type { Config } from "../config.ts";
import { prepareDataDir } from "../dataDir.ts";
import { startDataStage, type DataStage } from "../dataStage.ts";
import type { Logger } from "../log.ts";
import { markResuming } from "../store/accounts.ts";
import { bootstrapKeys } from "../store/apiKeys.ts";
import { WalCheckpointer } from "../store/checkpointer.ts";
import { openStore, type Store } from "../store/db.ts";
import { GroupCommit } from "../store/groupCommit.ts";

export interface StorageStage {
  store: Store;
  data: DataStage;
  checkpointer: WalCheckpointer;
  /** End-of-turn commit of what WhatsApp sends (its frames wait for it). */
  commit: GroupCommit;
}

export function openStorage(config: Config, log: Logger): StorageStage {
  prepareDataDir(config.dataDir, log);
  const dbFile = join(config.dataDir, "wahook.db");
  const store = openStore(dbFile, undefined, { synchronous: config.dbSync, walCheckpoint: config.walCheckpoint });
  const data = startDataStage(config, store, log);
  // Before the API answers: nothing is connected yet, whatever the last run left.
  markResuming(store);
  const checkpointer = new WalCheckpointer(dbFile, store, config.dbSync, log);
  const commit = new GroupCommit(store, log, data.storage.report);
  const keys = bootstrapKeys(store, config.apiKey);
  if (keys.generated) announceGeneratedKey(keys.generated);
  if (keys.reactivatedEnvKey) log.warn("WAHOOK_API_KEY had been revoked through the API; it works again because it is set in the environment. Change or remove WAHOOK_API_KEY to retire it.");
  return { store, data, checkpointer, commit };
}

function announceGeneratedKey(key: string): void {
  // Deliberately not a log line: this is the only time the key is shown, and logs are
  // often shipped elsewhere. stderr, once, at first start.
  process.stderr.write(
    [
      "",
      "  An admin API key was generated for this new installation:",
      "",
      `    ${key}`,
      "",
      "  Keep it now: it is shown only this once and only its hash is stored.",
      "  Use it as 'Authorization: Bearer <key>' (Swagger UI: Authorize).",
      "",
    ].join("\n") + "\n",
  );
}
