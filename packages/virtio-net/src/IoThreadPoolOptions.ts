import type { Logger } from '@vnic/core';

/** Size and policy of an IoThreadPool: the VMM's to set (bind IO_THREAD_POOL to its own pool). */
export interface IoThreadPoolOptions {
  /**
   * Shared IO threads: queue pairs in the `shared` mode are spread over at most this many threads,
   * each serving any number of pairs (default: the machine's cores, os.availableParallelism()).
   */
  readonly threads?: number;
  /** Idle threads (serving no pair) kept for reuse; more are terminated as they become idle (default 16). */
  readonly maxIdle?: number;
  /**
   * Threads alive at once (shared + dedicated + idle); a `dedicated` pair beyond it fails with kind
   * `io-thread`, a `shared` one shares a running thread (default 256).
   */
  readonly maxThreads?: number;
  /** Where the pool logs thread starts (debug) and threads it had to abandon (error). Default: silentLogger. */
  readonly logger?: Logger;
}
