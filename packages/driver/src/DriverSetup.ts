import type { Epoll } from '@vnic/sys';
import type { DriverQueueState } from './DriverQueueState.ts';
import type { GuestAllocator } from './GuestAllocator.ts';

/** What the MMIO bring-up (bringUpMmio) negotiated and set up. */
export interface DriverSetup {
  /** Features negotiated. */
  readonly features: bigint;
  /** Queue pairs set up. */
  readonly queuePairs: number;
  /** Queue size asked for on every queue. */
  readonly queueSize: number;
  /** Index of the control queue, or undefined without VIRTIO_NET_F_CTRL_VQ. */
  readonly ctrlIndex: number | undefined;
  /** RX buffer size posted. */
  readonly rxBufferSize: number;
  /** The allocator the rings and buffers came from. */
  readonly alloc: GuestAllocator;
  /** A 64 KiB guest buffer for fault injection (writeMalformedChain). */
  readonly scratch: number;
  /** One epoll over the call eventfds of every RX queue (receiveAny). */
  readonly rxAny: Epoll;
  /** Every queue set up, by index. */
  readonly queues: ReadonlyMap<number, DriverQueueState>;
}
