import type { DirtyLogShare, GuestMemoryLayout, QueueContext } from '@vnic/core';

/**
 * Everything one queue pair's data plane starts from, posted to the IO thread that serves it (an
 * IoWorkerRequest `job`): plain data and SharedArrayBuffers only (BigInt host addresses survive
 * structured cloning).
 */
export interface IoWorkerData {
  /** NIC id, for messages. */
  readonly nic: string;
  /** Queue pair number k (receiveq 2k, transmitq 2k+1). */
  readonly pair: number;
  /** Tap interface name, for messages. */
  readonly tapName: string;
  /** The tap queue fd of this pair (non-blocking, IFF_VNET_HDR with a 12-byte header). */
  readonly tapFd: number;
  /** Guest memory map: the thread builds its own zero-copy views from the host addresses. */
  readonly memory: GuestMemoryLayout;
  /** receiveq k as the driver set it up (absent when the driver did not enable it). */
  readonly rx?: QueueContext;
  /** transmitq k as the driver set it up (absent when the driver did not enable it). */
  readonly tx?: QueueContext;
  /** The control queue's kick eventfd, watched by the pair-0 thread and reported as `ctrl-kick`. */
  readonly ctrlKickFd?: number;
  /** SharedQueueCounters of the device. */
  readonly counters: SharedArrayBuffer;
  /** SharedNetState of the device (link, receive filter). */
  readonly netState: SharedArrayBuffer;
  /** SharedRateLimit of the device (its RX and TX buckets), when it has one. */
  readonly rateLimit?: SharedArrayBuffer;
  /** SharedCoalescing of the device (absent: every used buffer notified at once). */
  readonly coalescing?: SharedArrayBuffer;
  /** VIRTIO_F_EVENT_IDX acked. */
  readonly eventIdx: boolean;
  /** VIRTIO_F_INDIRECT_DESC acked. */
  readonly indirectDesc: boolean;
  /** VIRTIO_F_RING_PACKED acked: the rings are packed (PackedQueue), else split. */
  readonly ringPacked: boolean;
  /** VIRTIO_F_IN_ORDER acked (packed rings: used descriptors batched, §2.8.8). */
  readonly inOrder: boolean;
  /** VIRTIO_NET_F_MRG_RXBUF acked. */
  readonly mrgRxbuf: boolean;
  /** VIRTIO_NET_F_GUEST_CSUM acked (otherwise the header flags of received frames are cleared). */
  readonly guestCsum: boolean;
  /**
   * TX writes each batch of frames with one io_uring_enter (IoUring) instead of one writev per frame;
   * the thread falls back to writev when io_uring_setup fails (see TX_ENGINE_ENV).
   */
  readonly txIoUring: boolean;
  /**
   * With txIoUring: the TX ring is an SQPOLL ring, its writes run on the IO thread's kernel SQ
   * thread (see VirtioNetOptions.txSqPoll); absent or false: io_uring_enter submits.
   */
  readonly txSqPoll?: boolean;
  /**
   * RX reads batches of frames with io_uring (RxUringBatch) instead of one readv per frame; the
   * thread falls back to readv where io_uring is not there or refused (see RX_ENGINE_ENV).
   */
  readonly rxIoUring: boolean;
  /** The dirty log to mark guest writes in from the first one (a migration is running), if any. */
  readonly dirtyLog?: DirtyLogShare;
}
