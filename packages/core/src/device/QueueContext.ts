import type { QueueState } from '../queue/QueueState.ts';

/** One virtqueue as the driver set it up, handed to a backend at DRIVER_OK. */
export interface QueueContext {
  /** Queue index: 2k is receiveq k, 2k+1 is transmitq k, the last one the controlq (if negotiated). */
  readonly index: number;
  /** Queue size the driver chose (a power of two for split rings, at most the device maximum). */
  readonly size: number;
  /** Guest-physical address of the descriptor table. */
  readonly descTable: number;
  /** Guest-physical address of the available (driver) ring. */
  readonly availRing: number;
  /** Guest-physical address of the used (device) ring. */
  readonly usedRing: number;
  /** eventfd the guest's notifications arrive on (a KVM ioeventfd in a real VMM). */
  readonly kickFd: number;
  /** eventfd the device signals to interrupt the guest (a KVM irqfd in a real VMM). */
  readonly callFd: number;
  /** Ring positions to resume from; absent means a fresh ring (both 0). */
  readonly state?: QueueState;
}
