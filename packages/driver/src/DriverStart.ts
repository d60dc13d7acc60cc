import type { GuestMemory, VirtioMmioTransport, VirtioNetDevice } from '@vnic/core';
import type { MemfdGuestMemory } from '@vnic/sys';
import type { MmioWindow } from './MmioWindow.ts';
import type { QueueEventFds } from './QueueEventFds.ts';
import type { VirtioNetDriverTuning } from './VirtioNetDriverTuning.ts';

/**
 * What the bring-up needs, however the driver came in: create() builds it (createVmmHarness: the
 * driver plays the VMM too), attach() takes it from the VMM.
 */
export interface DriverStart {
  /** The device's MMIO window. */
  readonly mmio: MmioWindow;
  /** Guest RAM as the guest sees it. */
  readonly memory: GuestMemory;
  /** Where the driver may put its rings and buffers. */
  readonly ram: { readonly base: number; readonly size: number };
  /** The kick and call eventfds of queue `index`. */
  readonly eventFds: (index: number) => QueueEventFds;
  /** How queues are notified: the kick eventfd, or QueueNotify through the window. */
  readonly notify: 'eventfd' | 'mmio';
  /** The device behind the window, when known. */
  readonly device: VirtioNetDevice | undefined;
  /** The device's name in messages. */
  readonly name: string;
  /** The guest kernel's choices (features, pairs, sizes, TX layout). */
  readonly tuning: VirtioNetDriverTuning;
  /** The transport create() built (undefined after attach()). */
  readonly transport: VirtioMmioTransport | undefined;
  /** Guest RAM create() allocated (undefined after attach()). */
  readonly guestMemory: MemfdGuestMemory | undefined;
  /** Config/needs-reset interrupts the transport raised (counted by create()'s harness only). */
  readonly interruptCounter: { n: number };
  /** Releases what the driver owns besides its epolls (create(): transport, eventfds, memory). */
  readonly release: () => void;
}
