import type { GuestMemoryLayout } from '../../memory/GuestMemoryLayout.ts';

/**
 * What a restoring VMM hands in besides the saved state: its guest memory map and, per saved
 * queue, the eventfds of the new process (KVM ioeventfd/irqfd). Ring addresses and positions come
 * from the state. Needed only when the saved device was activated.
 */
export interface RestoreContext {
  /** Guest memory map of the restoring process. */
  readonly memory: GuestMemoryLayout;
  /** One entry per saved queue (the control queue included). */
  readonly queues: readonly { readonly index: number; readonly kickFd: number; readonly callFd: number }[];
  /**
   * Ask the guest to announce itself after the restore when it acked VIRTIO_NET_F_GUEST_ANNOUNCE
   * (default true: a restored NIC may sit behind another switch port). A live backend switch on the
   * same host may turn it off so the guest sees no config change.
   */
  readonly announce?: boolean;
}
