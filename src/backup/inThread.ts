// Runs createBackup on a thread of its own (thread.ts) and hands back its answer.
import type { BackupThreadAnswer } from "./thread.ts";
import type { BackupResult, CreateBackupInput } from "./create.ts";

/**
 * Where the thread's code is: in the compiled binary, entry points are embedded by their
 * path under src/ (package.json's build lists this one) beside Bun.main; from source, it
 * is this file's neighbour. (As for the checkpoint thread, see store/checkpointer.ts.)
 */
function threadEntry(): string {
  if (/\$bunfs|~BUN/.test(Bun.main)) return Bun.main.slice(0, Bun.main.lastIndexOf("/") + 1) + "backup/thread.ts";
  return new URL("./thread.ts", import.meta.url).href;
}

/** An error from the thread, with the code it had there (SQLITE_FULL, ENOSPC…). */
export class BackupThreadError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

export function backupInThread(input: CreateBackupInput, entry = threadEntry()): Promise<BackupResult> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const thread = new Worker(entry);
    thread.onmessage = (event: MessageEvent<BackupThreadAnswer>) => {
      answered = true;
      const answer = event.data;
      thread.terminate();
      if (answer.ok) resolve(answer.result);
      else reject(new BackupThreadError(answer.message, answer.code));
    };
    thread.onerror = (event) => {
      answered = true;
      thread.terminate();
      reject(new BackupThreadError(event.message || "the backup thread failed"));
    };
    // A thread whose code is missing (a binary built without it) closes without a word.
    thread.addEventListener("close", () => {
      if (!answered) reject(new BackupThreadError("the backup thread ended without an answer"));
    });
    thread.postMessage(input);
  });
}
