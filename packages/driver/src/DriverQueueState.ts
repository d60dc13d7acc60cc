import type { DriverRing } from './DriverRing.ts';
import type { Epoll, EventFd } from '@vnic/sys';
import type { DriverBufferPool } from './DriverBufferPool.ts';

/** One queue the driver set up: its ring, notifiers, the epoll it waits on and its buffers. */
export interface DriverQueueState {
  /** Queue index (2n RX, 2n+1 TX, then the control queue). */
  readonly index: number;
  /** The driver side of the ring. */
  readonly q: DriverRing;
  /** Written to notify the device (notify: 'eventfd'). */
  readonly kick: EventFd;
  /** The device's interrupt for this queue. */
  readonly call: EventFd;
  /** Watches `call` (the driver's own fd). */
  readonly epoll: Epoll;
  /** The queue's buffers. */
  readonly pool: DriverBufferPool;
}
