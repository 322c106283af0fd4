// How many handshakes the reconnect queue lets run at once. A fixed number is either too
// many or too few: on a loaded machine (or against the loopback emulator) handshakes are CPU
// and 8 at once already delay the API, while against WhatsApp each login waits on network
// round trips and 8 at once leave the CPU idle (1,000 accounts at 0.4 s a login: 50 s). So
// the window follows the event loop: a tick every 100 ms; a tick late by more than
// LAG_HIGH_MS halves it, ticks on time while it is full and accounts wait widen it by one.

export const START_WINDOW = 8;
export const MIN_WINDOW = 2;
export const MAX_WINDOW = 32;
/** A tick this late means requests to the API wait about as long: narrow. */
export const LAG_HIGH_MS = 25;
/** A tick this punctual leaves room for more handshakes: widen. */
export const LAG_LOW_MS = 5;
export const TICK_MS = 100;

/** The window after a tick `lagMs` late; `saturated`: every turn is taken and accounts wait. */
export function nextWindow(window: number, lagMs: number, saturated: boolean): number {
  if (lagMs > LAG_HIGH_MS) return Math.max(MIN_WINDOW, Math.floor(window / 2));
  if (lagMs < LAG_LOW_MS && saturated) return Math.min(MAX_WINDOW, window + 1);
  return window;
}

export interface WindowLoad {
  /** Turns are running or waiting: keep ticking. */
  busy: boolean;
  saturated: boolean;
}

/** Applies nextWindow on a timer that runs only while the queue has work. */
export class LagWindow {
  private current: number;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private due = 0;

  /** `fixed`: no adapting (tests that count turns). `widened` runs after the window grew. */
  constructor(
    private readonly opts: { start?: number; fixed?: boolean; load(): WindowLoad; widened(): void },
  ) {
    this.current = opts.start ?? START_WINDOW;
  }

  get size(): number {
    return this.current;
  }

  /** Starts ticking if it is not (called whenever work arrives). */
  watch(): void {
    if (this.opts.fixed || this.timer) return;
    this.due = performance.now() + TICK_MS;
    this.timer = setTimeout(this.tick, TICK_MS);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private tick = (): void => {
    this.timer = null;
    const now = performance.now();
    const load = this.opts.load();
    const before = this.current;
    this.current = nextWindow(this.current, now - this.due, load.saturated);
    if (this.current > before) this.opts.widened();
    if (!load.busy) return;
    this.due = now + TICK_MS;
    this.timer = setTimeout(this.tick, TICK_MS);
  };
}
