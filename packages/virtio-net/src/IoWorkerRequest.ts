import type { IoWorkerData } from './IoWorkerData.ts';

/**
 * What the main thread posts to an IO thread (then it writes the thread's control eventfd, so a
 * thread blocked in epoll_wait takes it at once): `job` adds one queue pair's data plane to the
 * thread's loop, `stop` takes it out again (its ring positions come back as `stopped`).
 */
export type IoWorkerRequest =
  | { readonly type: 'job'; /** Job number (process-wide), echoed in every IoWorkerMessage. */ readonly job: number; readonly data: IoWorkerData }
  | { readonly type: 'stop'; readonly job: number };
