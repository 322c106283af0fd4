// Entry of the backup thread: the daemon makes an archive here, so the snapshot (one long
// synchronous SQLite call) and the compression never stall the thread that talks to
// WhatsApp and the webhooks. One archive per thread; the daemon ends it after the answer.
import { readlinkSync } from "node:fs";
import { createBackup, type BackupResult, type CreateBackupInput } from "./create.ts";

declare const self: Worker;

export type BackupThreadAnswer = { ok: true; result: BackupResult } | { ok: false; message: string; code?: string };

/**
 * Live traffic goes first once the snapshot is taken: on Linux a thread is a task of its
 * own to the scheduler, so this one alone takes the lowest CPU priority (nice 19) and the
 * lowest best-effort I/O priority for hashing and compressing; a busy machine then makes
 * the backup slower, not the webhooks later. Not before: the snapshot holds a read
 * transaction that keeps checkpoints from recycling the write-ahead log, and slowed down it
 * would let the log grow until the daemon's own connection checkpoints in its commits.
 * Without renice/ionice (or /proc) the backup runs at normal priority.
 */
function yieldToLiveTraffic(): void {
  try {
    const tid = readlinkSync("/proc/thread-self").split("/").pop()!;
    Bun.spawnSync(["renice", "-n", "19", "-p", tid], { stdout: "ignore", stderr: "ignore" });
    Bun.spawnSync(["ionice", "-c", "2", "-n", "7", "-p", tid], { stdout: "ignore", stderr: "ignore" });
  } catch {}
}

self.onmessage = async (event: MessageEvent<CreateBackupInput>) => {
  try {
    self.postMessage({ ok: true, result: await createBackup(event.data, { afterSnapshot: yieldToLiveTraffic }) } satisfies BackupThreadAnswer);
  } catch (error) {
    const e = error as { message?: string; code?: string };
    self.postMessage({ ok: false, message: e.message ?? String(error), code: e.code } satisfies BackupThreadAnswer);
  }
};
