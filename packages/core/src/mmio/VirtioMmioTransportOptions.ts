import type { GuestMemoryLayout } from '../memory/GuestMemoryLayout.ts';

/** What a VMM gives `VirtioMmioTransport`: the memory map, the queue eventfds and its callbacks. */
export interface VirtioMmioTransportOptions {
  /** Guest memory map handed to the device at DRIVER_OK. */
  readonly memory: GuestMemoryLayout;
  /**
   * The eventfds of queue `index`: `kickFd` the VMM registered as a KVM ioeventfd on QueueNotify
   * (datamatch = index), `callFd` the one it registered as a KVM irqfd on the device's IRQ line.
   */
  queueEventFds(index: number): { readonly kickFd: number; readonly callFd: number };
  /** A QueueNotify write reached the transport (a VMM without ioeventfd forwards it to the kick fd). */
  onQueueNotify?(index: number): void;
  /** InterruptStatus gained a bit (used buffer or config change): the VMM raises the IRQ line. */
  onInterrupt?(): void;
  /** An asynchronous failure (activate/reset of the device, a VMM callback that threw). */
  onError?(err: unknown): void;
  /** VendorID register value; defaults to VirtioMmioTransport.VENDOR_ID ('VNIC'). */
  readonly vendorId?: number;
  /**
   * Report the used-buffer bit (1) in InterruptStatus whenever DRIVER_OK is set. With call fds wired
   * as KVM irqfds the transport never learns that a backend used a buffer, and Linux's virtio-mmio
   * interrupt handler ignores an interrupt whose status lacks the bit; a spurious bit only costs the
   * guest a scan of its used rings.
   */
  readonly usedBufferAlwaysPending?: boolean;
}
