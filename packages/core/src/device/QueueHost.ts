import type { GuestMemory } from '../memory/GuestMemory.ts';
import type { GuestMemoryLayout } from '../memory/GuestMemoryLayout.ts';

/**
 * The one hook a backend supplies so the device core can serve a queue itself (the control
 * queue): core does no I/O, so the host maps guest memory, watches the kick eventfd and signals
 * the call eventfd. `@vnic/sys`'s `epollQueueHost(loop)` is the usual implementation.
 */
export interface QueueHost {
  /** A view of the guest memory in `layout` (in `@vnic/sys`: guestMemoryFromLayout). */
  mapMemory(layout: GuestMemoryLayout): GuestMemory;
  /**
   * Starts watching kick eventfd `fd`: `onKick` runs on the main thread after each kick, with the
   * eventfd's counter already consumed (so a level-triggered watch does not fire again). Returns
   * the function that stops watching (the fd belongs to the VMM: never closed).
   */
  watchKick(fd: number, onKick: () => void): () => void;
  /** Signals call eventfd `fd` (interrupts the guest). */
  signal(fd: number): void;
}
