/**
 * What an IO thread starts from (its `workerData`): the thread's control eventfd and command bits,
 * created by the pool for the thread's whole life. The main thread writes the eventfd after each
 * IoWorkerRequest it posts and to ask the loop to return (IO_WORKER_STOP).
 */
export interface IoThreadInit {
  /** eventfd the main thread writes to wake the thread's loop. */
  readonly controlFd: number;
  /** Int32Array(1) of command bits (IO_WORKER_STOP) the main thread sets before writing controlFd. */
  readonly command: SharedArrayBuffer;
  /** The longest adaptive poll before the loop sleeps, in microseconds (IdlePoll; 0: off; default IO_POLL_MAX_US). */
  readonly pollMaxUs?: number;
}
