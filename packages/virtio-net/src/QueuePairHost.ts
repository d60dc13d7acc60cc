import type { GuestMemory } from '@vnic/core';
import type { Epoll } from '@vnic/sys';
import type { IoWorkerData } from './IoWorkerData.ts';
import type { LoopQueue } from './LoopQueue.ts';
import type { SharedNetState } from './SharedNetState.ts';

/** What QueuePairLoop shares with its TxPath and RxPath: the pair's state and reporting. */
export interface QueuePairHost {
  readonly data: IoWorkerData;
  readonly mem: GuestMemory;
  readonly net: SharedNetState;
  readonly tapFd: number;
  readonly epoll: Epoll;
  /** The tap queue failed for good (needs-reset posted): neither direction touches it again. */
  readonly tapDead: boolean;
  /** Publishes the queue's counters and ring position to the main thread. */
  publish(a: LoopQueue): void;
  /** Posts `needs-reset` once when the queue's ring is corrupt; true when it is. */
  checkBroken(a: LoopQueue): boolean;
  /** Brings the queue's malformed counter up to date. */
  syncMalformed(a: LoopQueue): void;
  /** A tap I/O error of `call` on queue `queueIndex`: a drop, or the end of the tap side. */
  tapError(e: unknown, call: string, queueIndex: number): void;
}
