import type { IoVecArray, SqPollGroup } from '@vnic/sys';

/**
 * Buffers of one IO thread, allocated once and handed to each job (QueuePairLoop) the thread runs:
 * jobs on a pooled thread run one after the other, so they share them.
 */
export interface ThreadBuffers {
  readonly rxIov: IoVecArray;
  readonly txIov: IoVecArray;
  /** The tail of a large frame (MRG_RXBUF) lands here first; see RxPath's ZERO_COPY_MIN. */
  readonly bounce: Uint8Array;
  /**
   * Host address of `bounce`; the byte after it (+MAX_FRAME) is the overflow byte: one byte past
   * the guest's buffers, a frame that reaches it did not fit (the tap truncates silently).
   */
  readonly sinkAddr: number;
  /** Frames taken off the tap while the link is down land here. */
  readonly scratch: Uint8Array;
  /** The Ethernet header + VLAN TCI of a frame the filter looks at, when not contiguous in guest memory. */
  readonly filterHead: Uint8Array;
  /**
   * The thread's SQPOLL TX rings (VirtioNetOptions.txSqPoll): they share one kernel SQ thread,
   * which ends when the last of them is closed.
   */
  readonly sqPoll: SqPollGroup;
}
