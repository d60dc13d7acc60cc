import type { EventFd } from '@vnic/sys';

/**
 * The two notifiers of one virtqueue as the guest side uses them: `kick` (what a QueueNotify write
 * becomes through a KVM ioeventfd) and `call` (the interrupt a backend raises, a KVM irqfd).
 */
export interface QueueEventFds {
  /** The driver writes it to notify the device (when notification goes through eventfds). */
  readonly kick: EventFd;
  /** The driver waits on it for used buffers; it reads (and so resets) its counter. */
  readonly call: EventFd;
}
