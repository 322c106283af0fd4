// Who opens a WhatsApp socket next. After a start, or when the network drops every account
// at once, all of them would otherwise connect in the same instant: a handshake and login
// cost about 16 ms of CPU each on the one event loop, so /health stalled for 0.9 s with 400
// accounts and 1.75 s with 800 (issue #23). Here at most `window` handshakes run at once
// (a number that follows the event loop, connectWindow.ts), each started after a short
// random delay, the most recently active account first; what an admin is waiting for (a
// pairing, a restart) goes before the rest. A socket also needs a file handle from the
// budget (fdBudget.ts): an account that gets none is parked, told so once, and tried again
// when a handle frees up or every `retryMs`.
import type { Logger } from "../log.ts";
import { LagWindow } from "./connectWindow.ts";
import type { FdBudget } from "./fdBudget.ts";

/** What a session sees of the queue. */
export interface ConnectSlots {
  /**
   * Asks for a turn to open a socket: `go` runs when it comes; `denied` when no file handle
   * is free (once; `go` may still follow when one frees up). A second request while one
   * waits replaces its callbacks.
   */
  request(accountId: string, urgent: boolean, callbacks: { go(): void; denied(): void }): void;
  /** The handshake is over (caught up, QR shown, closed): the next account may start. */
  settled(accountId: string): void;
  /** The session stopped for good: its turn, its place in line and its file handle go. */
  leave(accountId: string): void;
  /** Whether this account (or, without one, a new account) can get a file handle now. */
  hasRoom(accountId?: string): boolean;
  /** Waiting for a file handle. */
  isParked(accountId: string): boolean;
  /** The open-files budget as it stands, for what an admin is told. */
  readonly budget: { limit: number | null; capacity: number; held: number };
  /** At shutdown: no turn starts any more. */
  stop(): void;
}

export interface ReconnectQueueOptions {
  budget: FdBudget;
  /** When the account last had a message (ms), 0 if never: higher goes first. */
  activity(accountId: string): number;
  log: Logger;
  /** Handshakes at once to begin with (connectWindow.ts). */
  window?: number;
  /** Keep `window` as it is instead of following the event loop (tests that count turns). */
  fixedWindow?: boolean;
  /** Each turn starts after a random delay up to this. */
  jitterMs?: number;
  /** A handshake that has not settled by then no longer holds up the line. */
  holdMs?: number;
  /** Parked accounts try for a handle again this often (±20 %). */
  retryMs?: number;
  random?: () => number;
}

export const DEFAULT_JITTER_MS = 50;
export const DEFAULT_HOLD_MS = 15_000;
export const DEFAULT_RETRY_MS = 60_000;

interface Ticket {
  accountId: string;
  urgent: boolean;
  activity: number;
  seq: number;
  go(): void;
  denied(): void;
  /** `denied` was called: it is not called again for this ticket. */
  told: boolean;
}

interface Turn {
  /** Until it fires the socket is not opened yet (the jitter). */
  start: ReturnType<typeof setTimeout> | null;
  hold: ReturnType<typeof setTimeout>;
}

export class ReconnectQueue implements ConnectSlots {
  private readonly waiting = new Map<string, Ticket>();
  private readonly parked = new Map<string, Ticket>();
  private readonly turns = new Map<string, Turn>();
  private readonly window: LagWindow;
  private readonly jitterMs: number;
  private readonly holdMs: number;
  private readonly retryMs: number;
  private readonly random: () => number;
  private seq = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  /** The current run of turns, for one log line when it ends: the accounts that reconnected in it (not pairings, not restarts). */
  private wave: { since: number; accounts: Set<string> } | null = null;
  /** The open-files warning was logged for the accounts parked now. */
  private limitWarned = false;
  private pumpQueued = false;

  get budget(): FdBudget {
    return this.opts.budget;
  }

  constructor(private readonly opts: ReconnectQueueOptions) {
    this.window = new LagWindow({
      start: opts.window,
      fixed: opts.fixedWindow,
      load: () => ({ busy: this.turns.size > 0 || this.waiting.size > 0, saturated: this.waiting.size > 0 && this.turns.size >= this.window.size }),
      widened: () => this.schedulePump(),
    });
    this.jitterMs = opts.jitterMs ?? DEFAULT_JITTER_MS;
    this.holdMs = opts.holdMs ?? DEFAULT_HOLD_MS;
    this.retryMs = opts.retryMs ?? DEFAULT_RETRY_MS;
    this.random = opts.random ?? Math.random;
  }

  request(accountId: string, urgent: boolean, callbacks: { go(): void; denied(): void }): void {
    const queued = this.waiting.get(accountId) ?? this.parked.get(accountId);
    if (queued) {
      Object.assign(queued, callbacks);
      queued.urgent ||= urgent;
      return;
    }
    // A socket that ended before it settled: its turn is over.
    this.endTurn(accountId);
    this.waiting.set(accountId, { accountId, urgent, activity: this.activityOf(accountId), seq: this.seq++, ...callbacks, told: false });
    this.schedulePump();
  }

  settled(accountId: string): void {
    if (this.endTurn(accountId)) this.schedulePump();
  }

  leave(accountId: string): void {
    this.waiting.delete(accountId);
    this.parked.delete(accountId);
    this.endTurn(accountId);
    if (this.opts.budget.give(accountId)) this.unparkOne();
    this.schedulePump();
  }

  hasRoom(accountId?: string): boolean {
    if (accountId && this.opts.budget.holds(accountId)) return true;
    return this.opts.budget.available > 0;
  }

  isParked(accountId: string): boolean {
    return this.parked.has(accountId);
  }

  /** Counts for logs and tests. */
  get stats(): { waiting: number; connecting: number; window: number; parked: number; holding: number; capacity: number } {
    const { budget } = this.opts;
    return { waiting: this.waiting.size, connecting: this.turns.size, window: this.window.size, parked: this.parked.size, holding: budget.held, capacity: budget.capacity };
  }

  /** At shutdown: no turn starts any more. */
  stop(): void {
    for (const id of [...this.turns.keys()]) this.endTurn(id);
    this.waiting.clear();
    this.parked.clear();
    this.window.stop();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  private activityOf(accountId: string): number {
    try {
      return this.opts.activity(accountId);
    } catch {
      return 0;
    }
  }

  /**
   * Turns are handed out at the end of the current task: accounts that ask together (all of
   * them at start-up) are ordered together, and no callback runs inside the caller's own.
   */
  private schedulePump(): void {
    if (this.pumpQueued) return;
    this.pumpQueued = true;
    queueMicrotask(() => {
      this.pumpQueued = false;
      this.pump();
    });
  }

  private pump(): void {
    while (this.turns.size < this.window.size) {
      const ticket = this.best(this.waiting);
      if (!ticket) break;
      this.waiting.delete(ticket.accountId);
      if (!this.opts.budget.tryTake(ticket.accountId)) {
        this.park(ticket);
        continue;
      }
      this.begin(ticket);
    }
    if (this.parked.size === 0) this.limitWarned = false;
    else if (!this.limitWarned) {
      this.limitWarned = true;
      const { budget } = this.opts;
      this.opts.log.warn("open-files limit reached: accounts without a file handle wait as failed (resource_limit); raise LimitNOFILE / ulimit -n and restart", {
        limit: budget.limit,
        accounts_connected: budget.held,
        accounts_waiting: this.parked.size + this.waiting.size,
        retry_every_s: this.retryMs / 1000,
      });
    }
    this.endWaveIfIdle();
  }

  private begin(ticket: Ticket): void {
    const id = ticket.accountId;
    const delay = Math.floor(this.random() * this.jitterMs);
    const turn: Turn = {
      start: setTimeout(() => {
        turn.start = null;
        ticket.go();
      }, delay),
      hold: setTimeout(() => this.settled(id), delay + this.holdMs),
    };
    this.turns.set(id, turn);
    this.window.watch();
    this.wave ??= { since: Date.now(), accounts: new Set() };
    if (!ticket.urgent) this.wave.accounts.add(id);
  }

  private endTurn(accountId: string): boolean {
    const turn = this.turns.get(accountId);
    if (!turn) return false;
    if (turn.start) clearTimeout(turn.start);
    clearTimeout(turn.hold);
    this.turns.delete(accountId);
    return true;
  }

  /** Urgent first, then the most recently active, then the longest waiting. */
  private best(from: Map<string, Ticket>): Ticket | undefined {
    let best: Ticket | undefined;
    for (const t of from.values()) {
      if (!best || Number(t.urgent) - Number(best.urgent) > 0 || (t.urgent === best.urgent && (t.activity > best.activity || (t.activity === best.activity && t.seq < best.seq)))) best = t;
    }
    return best;
  }

  private park(ticket: Ticket): void {
    this.parked.set(ticket.accountId, ticket);
    if (!ticket.told) {
      ticket.told = true;
      ticket.denied();
    }
    this.retryTimer ??= setTimeout(() => this.retryParked(), Math.round(this.retryMs * (0.8 + 0.4 * this.random())));
  }

  private retryParked(): void {
    this.retryTimer = null;
    for (const [id, ticket] of this.parked) this.waiting.set(id, ticket);
    this.parked.clear();
    this.schedulePump();
  }

  private unparkOne(): void {
    const ticket = this.best(this.parked);
    if (!ticket) return;
    this.parked.delete(ticket.accountId);
    this.waiting.set(ticket.accountId, ticket);
  }

  private endWaveIfIdle(): void {
    if (!this.wave || this.turns.size > 0 || this.waiting.size > 0) return;
    const { accounts, since } = this.wave;
    this.wave = null;
    // One line for a start or a mass reconnect; a single account's reconnect or a pairing is no news here.
    if (accounts.size > 1) this.opts.log.info("accounts connected", { accounts: accounts.size, seconds: Math.round((Date.now() - since) / 100) / 10, waiting_for_file_handle: this.parked.size });
  }
}
