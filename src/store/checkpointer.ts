// Keeps WAL checkpoints off the main thread. SQLite's automatic checkpoint runs inside
// the commit that crosses 1,000 WAL pages and fsyncs there: under steady writes that
// stalled the thread that also speaks to WhatsApp and to the webhooks (measured: 26-34 µs
// per delivery, a third of the SQLite cost). While the database is being written, a
// thread of its own (checkpointThread.ts) checkpoints every 50 ms instead; the main
// connection keeps an automatic checkpoint at a high mark only as a safety net.
//
// The thread lives only while there is work: it starts when the main connection has
// written since the last look (every 250 ms) and ends after 5 s without new WAL frames,
// so an idle daemon does not carry its memory (about 9 MB). If it cannot run (a binary
// built without its entry point, a failure), the main connection checkpoints itself as
// SQLite does by default, and nothing else changes.
import type { Database } from "bun:sqlite";
import type { Store } from "./db.ts";
import type { Logger } from "../log.ts";
import type { CheckpointReport, CheckpointStart } from "./checkpointThread.ts";

/** SQLite's own default: the main connection checkpoints at this many WAL pages. */
const AUTO_PAGES = 1000;
/** While the thread runs: only if it falls far behind (16 MB of WAL at 4 KiB pages). */
const SAFETY_PAGES = 4000;

export interface CheckpointerOptions {
  lookMs?: number;
  intervalMs?: number;
  idleMs?: number;
  /** The thread's entry (tests give a broken one to see the fallback). */
  threadUrl?: string;
}

/**
 * Where the thread's code is. In the compiled binary, entry points are embedded by their
 * path under src/ (package.json's build lists this one) beside Bun.main, the binary's own
 * embedded entry; import.meta.url cannot tell, as --bytecode keeps the source path in it.
 * From source, it is this file's neighbour.
 */
function threadEntry(): string {
  if (/\$bunfs|~BUN/.test(Bun.main)) return Bun.main.slice(0, Bun.main.lastIndexOf("/") + 1) + "store/checkpointThread.ts";
  return new URL("./checkpointThread.ts", import.meta.url).href;
}

export class WalCheckpointer {
  private thread: Worker | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;
  private lastChanges = 0;
  private failed = false;
  /** Frames the thread has copied into the database file, for /metrics. */
  framesCheckpointed = 0;
  /** How many times a thread was started. */
  starts = 0;
  private readonly totalChanges;
  private readonly lookMs: number;
  private readonly intervalMs: number;
  private readonly idleMs: number;
  private readonly threadUrl: string;
  private readonly sqlite: Database;

  constructor(
    private readonly file: string,
    store: Store,
    private readonly synchronous: "normal" | "full",
    private readonly log: Logger,
    opts: CheckpointerOptions = {},
  ) {
    this.sqlite = store.sqlite;
    this.totalChanges = this.sqlite.query<{ n: number }, []>("SELECT total_changes() AS n");
    this.lookMs = opts.lookMs ?? 250;
    this.intervalMs = opts.intervalMs ?? 50;
    this.idleMs = opts.idleMs ?? 5_000;
    this.threadUrl = opts.threadUrl ?? threadEntry();
  }

  get running(): boolean {
    return this.thread !== null;
  }

  start(): void {
    if (this.timer) return;
    this.lastChanges = this.totalChanges.get()!.n;
    this.timer = setInterval(this.look, this.lookMs);
    this.timer.unref();
  }

  /** Ends the thread; from here on the main connection checkpoints by itself again. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.end();
  }

  private look = (): void => {
    const changes = this.totalChanges.get()!.n;
    const wrote = changes !== this.lastChanges;
    this.lastChanges = changes;
    if (wrote && !this.thread && !this.failed) this.begin();
  };

  private begin(): void {
    let thread: Worker;
    try {
      thread = new Worker(this.threadUrl);
    } catch (error) {
      this.fail((error as Error).message);
      return;
    }
    this.thread = thread;
    this.starts++;
    thread.onmessage = (event: MessageEvent<CheckpointReport>) => {
      const report = event.data;
      if (report.kind === "round") this.framesCheckpointed += report.frames;
      else if (report.kind === "idle") this.end();
      else this.fail(report.message);
    };
    thread.onerror = (event) => this.fail(event.message);
    // Bun reports a worker script that is missing from a compiled binary as a close,
    // without an error: one that ends before it was told to is a failure.
    thread.addEventListener("close", () => {
      if (this.thread === thread) this.fail("the checkpoint thread ended by itself");
    });
    // Like an idle timer, the thread alone does not keep the process running.
    (thread as Worker & { unref(): void }).unref();
    const start: CheckpointStart = {
      file: this.file,
      synchronous: this.synchronous === "full" ? "FULL" : "NORMAL",
      intervalMs: this.intervalMs,
      idleRounds: Math.ceil(this.idleMs / this.intervalMs),
    };
    thread.postMessage(start);
    this.sqlite.exec(`PRAGMA wal_autocheckpoint = ${SAFETY_PAGES}`);
  }

  private end(): void {
    const thread = this.thread;
    this.thread = null;
    if (!thread) return;
    // Back to checkpointing on commit before the thread is gone, so there is no moment
    // when nobody would.
    this.sqlite.exec(`PRAGMA wal_autocheckpoint = ${AUTO_PAGES}`);
    thread.terminate();
  }

  private fail(message: string): void {
    if (this.failed) return;
    this.failed = true;
    this.end();
    this.log.warn("WAL checkpoints stay on the main thread: the checkpoint thread could not run", { error: message });
  }
}
