import { viewHostMemory } from '@vnic/sys';
import type { FrontendLog } from './FrontendLog.ts';

/** How often the bitmap is sampled while logging. */
const SAMPLE_MS = 10;
/** Largest log sampled (1 MiB of bitmap: 32 GiB of guest memory); bigger logs are not counted. */
const MAX_SAMPLED = 1 << 20;

/**
 * Counts the distinct guest pages marked in a dirty log while logging runs, for reports (`vnic
 * serve` prints it when logging ends): every SAMPLE_MS the bitmap is read (Atomics.load, never
 * written) and its set bits ORed into a private copy. The frontend clears bits as it syncs the log
 * (QEMU per migration pass), so a bit set and cleared between two samples is missed: the count is
 * a lower bound of the pages marked. Logs above 1 MiB are not sampled (`pages` stays undefined).
 */
export class LogSampler {
  readonly #seen: Uint8Array | undefined;
  readonly #view: Uint8Array | undefined;
  readonly #timer: NodeJS.Timeout | undefined;

  constructor(log: FrontendLog) {
    if (log.size > MAX_SAMPLED) return;
    // NATIVE: a view over the log mapping; stop() runs before the log is unmapped.
    this.#view = new Uint8Array(viewHostMemory(log.hostAddr, log.size));
    this.#seen = new Uint8Array(log.size);
    this.#timer = setInterval(() => this.#sample(), SAMPLE_MS);
    this.#timer.unref();
  }

  #sample(): void {
    const v = this.#view!;
    const seen = this.#seen!;
    for (let i = 0; i < v.length; i++) {
      const b = Atomics.load(v, i);
      if (b !== 0) seen[i]! |= b;
    }
  }

  /** Takes a last sample and stops; returns the distinct pages seen marked (undefined: not sampled). Call before the log is unmapped. */
  stop(): number | undefined {
    if (this.#timer === undefined) return undefined;
    clearInterval(this.#timer);
    this.#sample();
    let n = 0;
    for (const b of this.#seen!) for (let x = b; x !== 0; x &= x - 1) n++;
    return n;
  }
}
