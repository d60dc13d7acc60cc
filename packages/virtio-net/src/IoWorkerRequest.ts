import type { DirtyLogShare } from '@vnic/core';
import type { IoWorkerData } from './IoWorkerData.ts';

/**
 * What the main thread posts to an IO thread (then it writes the thread's control eventfd, so a
 * thread blocked in epoll_wait takes it at once): `job` adds one queue pair's data plane to the
 * thread's loop, `stop` takes it out again (its ring positions come back as `stopped`), `dirty-log` switches its dirty logging,
 * `coalescing` makes it take new coalescing parameters at once.
 */
export type IoWorkerRequest =
  | { readonly type: 'job'; /** Job number (process-wide), echoed in every IoWorkerMessage. */ readonly job: number; readonly data: IoWorkerData }
  | { readonly type: 'stop'; readonly job: number }
  /** The device published new coalescing parameters (SharedCoalescing): the pair applies them now (held notifications may be due, the timer re-armed). */
  | { readonly type: 'coalescing'; readonly job: number }
  /** Start (a log) or stop (null) marking the pair's guest writes; answered `dirty-log-set` with `seq`. */
  | { readonly type: 'dirty-log'; readonly job: number; readonly seq: number; readonly log: DirtyLogShare | null }
  /** How many V8 heap bytes the thread allocated so far (IoHeapCounter); answered `heap` with `seq`. */
  | { readonly type: 'heap'; readonly job: number; readonly seq: number };
