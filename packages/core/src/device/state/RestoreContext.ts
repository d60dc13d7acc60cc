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
}
