import { GuestMemory } from '../memory/GuestMemory.ts';
import type { GuestMemoryLayout } from '../memory/GuestMemoryLayout.ts';
import type { QueueHost } from './QueueHost.ts';

/**
 * TEST-ONLY QueueHost for the pure unit specs of core (no fds, no mappings): memory is fresh
 * zeroed bytes per region (or the GuestMemory given), `kick(fd)` runs what the core watches on
 * `fd`, `signals` records every call signal. Not exported from the barrel.
 */
export class FakeQueueHost implements QueueHost {
  /** Call fds signalled, in order. */
  readonly signals: number[] = [];
  readonly #watches = new Map<number, () => void>();
  #mem: GuestMemory | undefined;

  constructor(mem?: GuestMemory) {
    this.#mem = mem;
  }

  /** Fds being watched. */
  get watched(): number[] {
    return [...this.#watches.keys()];
  }

  mapMemory(layout: GuestMemoryLayout): GuestMemory {
    this.#mem ??= new GuestMemory(layout.regions.map((r) => ({ guestPhysAddr: r.guestPhysAddr, bytes: new Uint8Array(r.size) })));
    return this.#mem;
  }

  watchKick(fd: number, onKick: () => void): () => void {
    if (this.#watches.has(fd)) throw new Error(`fd ${fd} watched twice`);
    this.#watches.set(fd, onKick);
    return () => this.#watches.delete(fd);
  }

  signal(fd: number): void {
    this.signals.push(fd);
  }

  /** Delivers a kick on `fd`; false when nothing watches it. */
  kick(fd: number): boolean {
    const h = this.#watches.get(fd);
    h?.();
    return h !== undefined;
  }
}
