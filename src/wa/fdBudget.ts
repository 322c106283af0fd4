// File handles for WhatsApp sockets, budgeted under the open-files limit (openFiles.ts says
// why running out is fatal for the whole daemon). An account takes a handle when it first
// may connect and keeps it until its session stops for good (admin stop, logout, conflict,
// deleted): across reconnects it keeps its place, so a storm of reconnects never hands an
// open account's handle to a waiting one. An account that gets none waits as `failed`.
import { accountCapacity, headroomFor } from "../openFiles.ts";

export interface FdBudgetOptions {
  /** The soft open-files limit, or null where it is unknown (then there is no budget). */
  limit: number | null;
  /** Handles in use when the budget is made: database, listener, runtime, stdio. */
  inUse: number;
  /** Handles open right now (openFiles.countOpenFiles), null where unknown. */
  countOpen?: () => number | null;
}

export class FdBudget {
  readonly limit: number | null;
  readonly headroom: number;
  /** How many accounts may hold a handle at once. */
  readonly capacity: number;
  private readonly holders = new Set<string>();
  private readonly countOpen: () => number | null;

  constructor(opts: FdBudgetOptions) {
    this.limit = opts.limit;
    this.headroom = opts.limit === null ? 0 : headroomFor(opts.limit);
    this.capacity = accountCapacity(opts.limit, opts.inUse);
    this.countOpen = opts.countOpen ?? (() => null);
  }

  get held(): number {
    return this.holders.size;
  }

  /** Handles still free for accounts (Infinity without a known limit). */
  get available(): number {
    return Math.max(0, this.capacity - this.holders.size);
  }

  holds(accountId: string): boolean {
    return this.holders.has(accountId);
  }

  /** A handle for this account, if one is free; true when it already holds one. */
  tryTake(accountId: string): boolean {
    if (this.holders.has(accountId)) return true;
    if (this.holders.size >= this.capacity) return false;
    // The budget counts sockets; other work (API clients, webhooks, media) may have eaten
    // into the headroom meanwhile. Half of it must stay free when a socket is added.
    if (this.limit !== null) {
      const open = this.countOpen();
      if (open !== null && open + 1 + this.headroom / 2 > this.limit) return false;
    }
    this.holders.add(accountId);
    return true;
  }

  /** The account no longer connects (stopped, logged out, deleted): its handle is free. */
  give(accountId: string): boolean {
    return this.holders.delete(accountId);
  }
}
