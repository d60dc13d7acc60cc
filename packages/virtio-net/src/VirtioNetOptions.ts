import type { IoThreadMode } from './IoThreadMode.ts';

/**
 * The `"virtio-net"` section of a NIC in the VM config (validated by `validateVirtioNetOptions`).
 * Without `tap` or `tapFds` the device creates a tap named by the kernel (`vnic%d`).
 */
export interface VirtioNetOptions {
  /**
   * Tap interface to create, or to attach to when a persistent tap of that name exists (at most
   * 15 bytes; `%d` lets the kernel pick a number). Default `vnic%d`.
   */
  readonly tap?: string;
  /**
   * Tap fds the VMM opened itself (IFF_TAP|IFF_NO_PI|IFF_VNET_HDR, IFF_MULTI_QUEUE when more
   * than one), one per queue pair. The device works on duplicates: the VMM keeps its own fds.
   */
  readonly tapFds?: readonly number[];
  /** Make a tap the device creates outlive it (TUNSETPERSIST). Default false. */
  readonly persistent?: boolean;
  /**
   * `shared` (default): the NIC's queue pairs run on the IO_THREAD_POOL's shared threads, with
   * other NICs' pairs; `dedicated`: each pair gets an IO thread of its own (latency-critical NICs).
   */
  readonly ioThreads?: IoThreadMode;
  /**
   * TX through an SQPOLL io_uring: the tap writes run on a kernel SQ thread (one per IO thread,
   * shared by its NICs' TX rings, `iou-sqp-<pid>`) instead of inside io_uring_enter on the IO
   * thread; the SQ thread polls for SQ_THREAD_IDLE_MS after the last frame, then sleeps. Default
   * false: measured no faster on 2 cores (BENCHMARKS.md, tx-64B-sqpoll-mpps) and it spins a core
   * while frames flow. Falls back to a plain ring where the kernel refuses SQPOLL.
   */
  readonly txSqPoll?: boolean;
}
