// Group commit for what arrives from WhatsApp. Baileys hands over messages dozens at a
// time within one event-loop turn (a burst of 8,000 came in 85 turns), and one commit per
// message was most of the daemon's cost. Work deferred here runs at the end of the turn,
// in order, in ONE transaction (each piece in a savepoint of its own, so a piece that
// fails takes only itself back); then the `committed` hooks run: they release what may
// only go out once the work is durable (the WhatsApp frames held by wa/frameGate.ts, so a
// receipt never leaves before its message is stored).
//
// If the commit itself fails (disk full, I/O error), nothing is dropped: the work stays
// queued, the hooks do not run (receipts stay held, so WhatsApp keeps the messages), and
// the commit is tried again.
import type { Database } from "bun:sqlite";
import type { Store } from "./db.ts";
import type { Logger } from "../log.ts";

const RETRY_MS = 200;

interface Work {
  run(): void;
  /** Runs after the commit that made this work durable. */
  after?(): void;
  label: string;
}

export class GroupCommit {
  private work: Work[] = [];
  private readonly hooks: (() => void)[] = [];
  private scheduled = false;
  private flushing = false;
  private failing = false;
  private closed = false;
  private retry: ReturnType<typeof setTimeout> | null = null;
  private lastFlushAt = 0;
  /** What the running piece asked to run after the commit (whenCommitted); null outside a piece. */
  private pieceHooks: (() => void)[] | null = null;
  /** Commits made, and pieces of work in them (for tests and benchmarks). */
  commits = 0;
  pieces = 0;
  /** Commits the database refused; each is tried again (for tests). */
  refusedCommits = 0;
  private readonly sqlite: Database;

  constructor(
    store: Store,
    private readonly log: Logger,
    /** Told of every failed commit (storageHealth.ts turns a full disk into /health's answer). */
    private readonly onCommitError?: (error: unknown) => void,
  ) {
    this.sqlite = store.sqlite;
  }

  /** Queues work for the end of this turn. */
  defer(label: string, run: () => void, after?: () => void): void {
    if (this.closed) {
      // After shutdown: WhatsApp has no receipt for it and sends it again next time.
      this.log.debug("work after shutdown dropped", { work: label });
      return;
    }
    this.work.push({ run, after, label });
    this.schedule();
  }

  /** Asks for an end-of-turn flush even without work (frames wait for it). */
  schedule(): void {
    if (this.scheduled || this.retry || this.closed) return;
    this.scheduled = true;
    setImmediate(this.flushScheduled);
  }

  /**
   * From inside a piece: runs `fn` once the commit holding it succeeds; dropped if the
   * piece is rolled back (it runs again then, and asks again). Elsewhere it does nothing
   * and returns false: only the caller's own transaction knows when it commits.
   */
  whenCommitted(fn: () => void): boolean {
    if (!this.pieceHooks) return false;
    this.pieceHooks.push(fn);
    return true;
  }

  /**
   * A flush in the middle of a long turn, at a point the caller knows to be as safe as a
   * turn's end (see wa/frameGate.ts), when anything waits and the last flush is at least
   * `minIntervalMs` old. A stream of frames from WhatsApp keeps Bun's event loop from ever
   * reaching the end of the turn (setImmediate, timers and fetch answers wait until the
   * socket has nothing more to read): without this, a burst was stored, and its receipts
   * sent, only once it was over.
   */
  flushIfDue(minIntervalMs: number): void {
    if (this.flushing || this.retry || this.closed || !this.scheduled) return;
    if (performance.now() - this.lastFlushAt < minIntervalMs) return;
    this.flush(true);
  }

  /** Called after every successful flush, in registration order. */
  onCommitted(hook: () => void): void {
    this.hooks.push(hook);
  }

  get pending(): number {
    return this.work.length;
  }

  /**
   * Commits what is queued now (creds that count this turn's keys, a new socket, a wipe,
   * shutdown). The hooks run only with `release` (a socket closing, shutdown): in mid-turn
   * a receipt may be held whose message has not even been handed over yet, and it must
   * wait for the end-of-turn commit. Not from inside a flush.
   */
  flushNow(release = false): void {
    if (this.flushing) return;
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    this.flush(release);
  }

  /** Last flush before the store closes; what cannot be committed now is left to WhatsApp. */
  close(): void {
    this.flushNow(true);
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    this.closed = true;
    this.work = [];
  }

  /** The end of the turn; nothing to do if a flush since (flushIfDue, flushNow(true)) took it all. */
  private flushScheduled = (): void => {
    if (this.scheduled) this.flush(true);
  };

  private flush = (release: unknown = true): void => {
    if (this.closed) return;
    this.lastFlushAt = performance.now();
    this.flushing = true;
    try {
      this.flushBatch(release !== false);
    } finally {
      this.flushing = false;
    }
  };

  private flushBatch(release: boolean): void {
    // A flush without the hooks leaves the scheduled one pending for them.
    if (release) this.scheduled = false;
    const batch = this.work;
    this.work = [];
    if (batch.length) {
      const failed = new Map<Work, unknown>();
      const committed: (() => void)[] = [];
      try {
        this.sqlite
          .transaction(() => {
            for (const w of batch) {
              this.pieceHooks = [];
              try {
                this.sqlite.transaction(w.run)();
                committed.push(...this.pieceHooks);
              } catch (error) {
                failed.set(w, error);
              } finally {
                this.pieceHooks = null;
              }
            }
          })
          .immediate();
      } catch (error) {
        // Not committed: everything stays queued, in order, and nothing is released.
        this.work = batch.concat(this.work);
        this.refusedCommits++;
        this.onCommitError?.(error);
        if (!this.failing) this.log.error("could not commit what WhatsApp sent; holding its receipts and retrying", { pieces: batch.length, error });
        this.failing = true;
        this.retry = setTimeout(() => {
          this.retry = null;
          this.flush(true);
        }, RETRY_MS);
        return;
      }
      if (this.failing) this.log.info("commits work again", { pieces: batch.length });
      this.failing = false;
      this.commits++;
      this.pieces += batch.length;
      for (const fn of committed) fn();
      for (const w of batch) {
        const error = failed.get(w);
        if (error !== undefined) this.log.error("could not store one piece of WhatsApp work; the others are stored", { work: w.label, error });
        else w.after?.();
      }
    }
    if (release) for (const hook of this.hooks) hook();
  }
}
