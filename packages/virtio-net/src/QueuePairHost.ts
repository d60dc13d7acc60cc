import type { GuestMemory } from '@vnic/core';
import type { IoWorkerData } from './IoWorkerData.ts';
import type { LoopEpoll } from './LoopEpoll.ts';
import type { LoopQueue } from './LoopQueue.ts';
import type { SharedNetState } from './SharedNetState.ts';
import type { SharedRateLimit } from './SharedRateLimit.ts';

/** What QueuePairLoop shares with its TxPath and RxPath: the pair's state and reporting. */
export interface QueuePairHost {
  readonly data: IoWorkerData;
  readonly mem: GuestMemory;
  readonly net: SharedNetState;
  readonly tapFd: number;
  /** The IO thread's epoll, through this pair's slot (the thread may serve many pairs). */
  readonly epoll: LoopEpoll;
  /** The tap queue failed for good (needs-reset posted): neither direction touches it again. */
  readonly tapDead: boolean;
  /** The NIC's rate limits (IoWorkerData.rateLimit), when it shares them with this pair. */
  readonly rateLimit: SharedRateLimit | undefined;
  /** Publishes the queue's counters and ring position to the main thread. */
  publish(a: LoopQueue): void;
  /** Posts `needs-reset` once when the queue's ring is corrupt; true when it is. */
  checkBroken(a: LoopQueue): boolean;
  /** Brings the queue's malformed counter up to date. */
  syncMalformed(a: LoopQueue): void;
  /** A tap I/O error of `call` on queue `queueIndex`: a drop, or the end of the tap side. */
  tapError(e: unknown, call: string, queueIndex: number): void;
}
