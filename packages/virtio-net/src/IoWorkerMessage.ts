import type { QueueState } from '@vnic/core';

/** What an IO thread posts to the main thread about job `job` (one queue pair's activation). */
export type IoWorkerMessage =
  /** The thread's script is loaded and listens for requests (sent once per thread, job -1). */
  | { readonly type: 'loaded'; readonly job: number }
  /** Set up and polling. */
  | { readonly type: 'ready'; readonly job: number }
  /** The control queue was kicked (pair-0 job only): the main thread processes it. */
  | { readonly type: 'ctrl-kick'; readonly job: number }
  /** Ring-level corruption or a dead tap queue: the device must report NEEDS_RESET. */
  | { readonly type: 'needs-reset'; readonly job: number; readonly queueIndex: number | undefined; readonly reason: string }
  /** Stopped on request: ring positions to resume from (held RX buffers given back). The thread is idle again. */
  | { readonly type: 'stopped'; readonly job: number; readonly rx?: QueueState; readonly tx?: QueueState }
  /** The `dirty-log` request `seq` took effect: the pair marks into the new log (or none) from its next write. */
  | { readonly type: 'dirty-log-set'; readonly job: number; readonly seq: number }
  /** The answer to `heap` request `seq`: the thread's IoHeapCounter.allocatedBytes() (the whole thread, every pair it serves). */
  | { readonly type: 'heap'; readonly job: number; readonly seq: number; readonly allocatedBytes: number }
  /** An unexpected exception ended the job (the thread is not reused). */
  | { readonly type: 'fatal'; readonly job: number; readonly message: string };
