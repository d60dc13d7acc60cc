/** Clock and timer a WarningCoalescer runs on (injectable for specs). */
export interface WarningClock {
  /** Milliseconds on a monotonic clock. */
  now(): number;
  /** Runs `fn` once after `ms` ms; returns a cancel function. The timer must not keep the process alive. */
  schedule(fn: () => void, ms: number): () => void;
}

/** Options of a WarningCoalescer. */
export interface WarningCoalescerOptions {
  /** Receives each warning that goes out (e.g. emits the device's `warning` event). */
  readonly emit: (message: string) => void;
  /** Window per kind: at most one warning of a kind per window after the first (default 1000 ms). */
  readonly intervalMs?: number;
  /** Clock and timers (default: performance.now and unref'd setTimeout). */
  readonly clock?: WarningClock;
}

const realClock: WarningClock = {
  now: () => performance.now(),
  schedule(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref();
    return () => clearTimeout(t);
  },
};

interface KindState {
  /** Warnings held back in the current window, and the last of them. */
  count: number;
  last: string;
  cancel: () => void;
}

/**
 * Turns a flood of warnings into a few: per kind, the first warning goes out at once and opens a
 * window of `intervalMs`; the ones that follow inside it are only counted, and when the window
 * ends the last of them goes out with their count (`... (41 more in 1 s)`), opening the
 * next window. A kind that stays quiet for a whole window starts over. So a peer that sends
 * millions of messages costs at most one event per kind per window, and none is lost unseen.
 * Any backend can use it for its `warning` events; `dispose()` cancels the timers.
 */
export class WarningCoalescer {
  readonly #emit: (message: string) => void;
  readonly #interval: number;
  readonly #clock: WarningClock;
  readonly #kinds = new Map<string, KindState>();

  constructor(options: WarningCoalescerOptions) {
    this.#emit = options.emit;
    this.#interval = options.intervalMs ?? 1000;
    this.#clock = options.clock ?? realClock;
  }

  /** Reports a warning of `kind` (a stable key such as `config-change`; the message may vary). */
  warn(kind: string, message: string): void {
    const s = this.#kinds.get(kind);
    if (s !== undefined) {
      s.count++;
      s.last = message;
      return;
    }
    this.#emit(message);
    this.#open(kind);
  }

  /** Cancels the pending windows; held-back counts are dropped. */
  dispose(): void {
    for (const s of this.#kinds.values()) s.cancel();
    this.#kinds.clear();
  }

  #open(kind: string): void {
    const s: KindState = { count: 0, last: '', cancel: () => {} };
    this.#kinds.set(kind, s);
    s.cancel = this.#clock.schedule(() => this.#close(kind, s), this.#interval);
  }

  #close(kind: string, s: KindState): void {
    if (this.#kinds.get(kind) !== s) return;
    this.#kinds.delete(kind);
    if (s.count === 0) return;
    const secs = this.#interval / 1000;
    this.#emit(`${s.last} (${s.count} more in ${secs} s)`);
    this.#open(kind);
  }
}
