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
  /**
   * The longest adaptive poll of a thread's epoll before it sleeps, in microseconds (IdlePoll:
   * grows while the next event keeps coming sooner than this, shrinks to nothing when it does not;
   * it saves two thread wake-ups per request/response round trip). 0: never poll. Default
   * IO_POLL_MAX_US (128).
   */
  readonly pollMaxUs?: number;
  /** Where the pool logs thread starts (debug) and threads it had to abandon (error). Default: silentLogger. */
  readonly logger?: Logger;
}
