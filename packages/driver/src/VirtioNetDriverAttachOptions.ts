import type { GuestMemory, VirtioNetDevice } from '@vnic/core';
import type { MmioWindow } from './MmioWindow.ts';
import type { QueueEventFds } from './QueueEventFds.ts';
import type { VirtioNetDriverTuning } from './VirtioNetDriverTuning.ts';

/**
 * Options of `VirtioNetDriver.attach`: the driver runs as the guest kernel inside a VMM that owns
 * guest memory, the queue eventfds and the transport. The driver owns none of them; `close()`
 * resets the device through the MMIO window and releases only the driver's own epoll fds.
 */
export interface VirtioNetDriverAttachOptions extends VirtioNetDriverTuning {
  /** The device's MMIO window (the VMM's exit handler, or a VirtioMmioTransport). */
  readonly mmio: MmioWindow;
  /** Guest RAM as the guest sees it (zero-copy; the VMM's mapping). */
  readonly memory: GuestMemory;
  /**
   * Guest-physical range the driver may put its rings and buffers in (default: all of the first
   * region). `VirtioNetDriver.guestMemoryBytes()` says how much it needs.
   */
  readonly ram?: { readonly base: number; readonly size: number };
  /** The kick and call eventfds of queue `index` (the ones the VMM handed the transport). */
  eventFds(index: number): QueueEventFds;
  /**
   * How the driver notifies a queue: `eventfd` writes the kick eventfd (what a KVM ioeventfd does
   * for a QueueNotify write; the default), `mmio` writes QueueNotify through the MMIO window (a VMM
   * without ioeventfd forwards it, e.g. with the transport's `onQueueNotify`).
   */
  readonly notify?: 'eventfd' | 'mmio';
  /** The device behind the window, when the caller has it (only for `driver.device`). */
  readonly device?: VirtioNetDevice;
  /** Name used in error messages (default: the device's id, else `virtio-net`). */
  readonly name?: string;
}
