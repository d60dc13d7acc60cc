import type { Logger } from '@vnic/core';

/** Size and policy of an IoThreadPool: the VMM's to set (bind IO_THREAD_POOL to its own pool). */
export interface IoThreadPoolOptions {
  /** Idle threads kept for reuse; more are terminated as they become idle (default 16). */
  readonly maxIdle?: number;
  /** Threads alive at once (busy + idle); an activation beyond it fails with kind `io-thread` (default 256). */
  readonly maxThreads?: number;
  /** Where the pool logs thread starts (debug) and threads it had to abandon (error). Default: silentLogger. */
  readonly logger?: Logger;
}
