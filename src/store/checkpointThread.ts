// Entry of the WAL checkpoint thread (see checkpointer.ts). Its own connection copies
// committed pages from the WAL into the database file with PASSIVE checkpoints, which
// never wait for and never block the main connection's readers and writer, so the
// fsyncs a checkpoint costs are paid here, on another core. It reports each round's
// work and says when it has had nothing to do for a while.
import { Database } from "bun:sqlite";

declare const self: Worker;

export interface CheckpointStart {
  file: string;
  synchronous: "NORMAL" | "FULL";
  intervalMs: number;
  /** Rounds without new frames after which the thread reports itself idle. */
  idleRounds: number;
}

export type CheckpointReport = { kind: "round"; frames: number; busy: boolean } | { kind: "idle" } | { kind: "error"; message: string };

self.onmessage = (event: MessageEvent<CheckpointStart>) => {
  const { file, synchronous, intervalMs, idleRounds } = event.data;
  let sqlite: Database;
  try {
    sqlite = new Database(file);
    sqlite.exec(`PRAGMA synchronous = ${synchronous}`);
  } catch (error) {
    self.postMessage({ kind: "error", message: (error as Error).message } satisfies CheckpointReport);
    return;
  }
  const checkpoint = sqlite.query<{ busy: number; log: number; checkpointed: number }, []>("PRAGMA wal_checkpoint(PASSIVE)");
  let done = 0;
  let quiet = 0;
  setInterval(() => {
    try {
      const r = checkpoint.get();
      if (!r) return;
      // `log` is the WAL's length in frames, `checkpointed` how many are in the file now.
      // The main connection starts the WAL over once all of it is in: `log` drops.
      const before = r.log < done ? 0 : done;
      done = r.checkpointed;
      const frames = Math.max(0, r.checkpointed - before);
      if (frames > 0 || r.log > r.checkpointed) quiet = 0;
      else if (++quiet >= idleRounds) self.postMessage({ kind: "idle" } satisfies CheckpointReport);
      if (frames > 0 || r.busy) self.postMessage({ kind: "round", frames, busy: r.busy === 1 } satisfies CheckpointReport);
    } catch (error) {
      // A full disk: the database file cannot grow now. Not a reason to give the thread
      // up for good: the next rounds try again, and succeed once there is space.
      if ((error as { code?: string }).code === "SQLITE_FULL") return;
      self.postMessage({ kind: "error", message: (error as Error).message } satisfies CheckpointReport);
    }
  }, intervalMs);
};
