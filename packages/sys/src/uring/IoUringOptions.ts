/** How IoUring.create sets a ring up (io_uring_params, linux/io_uring.h). */
export interface IoUringOptions {
  /**
   * IORING_SETUP_SQPOLL: a kernel thread of this process (the SQ thread, `iou-sqp-<pid>`) takes
   * the published SQEs and runs them, so `publish()` hands work over without a syscall and the
   * writes run on that thread in parallel with the caller. It polls an empty ring for this many
   * milliseconds (sq_thread_idle) before it sleeps (IORING_SQ_NEED_WAKEUP; the next publish wakes
   * it with one io_uring_enter). Undefined: no SQ thread, io_uring_enter submits.
   */
  readonly sqPollIdleMs?: number;
  /**
   * With sqPollIdleMs: the fd of a live SQPOLL ring of this process whose SQ thread this ring
   * shares (IORING_SETUP_ATTACH_WQ): one kernel thread serves both rings. The thread ends when the
   * last ring sharing it is closed.
   */
  readonly attachTo?: number;
  /**
   * Only the thread that creates the ring submits on it and waits for it (not with sqPollIdleMs):
   * the ring is set up with the best the kernel takes of IORING_SETUP_SINGLE_ISSUER +
   * DEFER_TASKRUN (completion work runs in that thread's io_uring_enter, no locking for other
   * submitters), SUBMIT_ALL and NO_SQARRAY (6.6: no SQ index array), falling back to
   * COOP_TASKRUN (5.19) and to none. io_uring_enter from another thread then fails (EEXIST).
   * `IoUring.setupFlags` says which were taken.
   */
  readonly singleIssuer?: boolean;
}
