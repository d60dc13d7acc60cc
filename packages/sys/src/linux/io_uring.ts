/**
 * io_uring ABI: names, values and struct layouts as in the Linux uapi header
 * include/uapi/linux/io_uring.h (struct io_uring_params, io_sqring_offsets, io_cqring_offsets,
 * io_uring_sqe, io_uring_cqe), plus the syscall numbers of asm-generic/unistd.h (shared by
 * x86-64 and aarch64). Offsets are byte offsets inside each struct.
 */

/** __NR_io_uring_setup. */
export const NR_io_uring_setup = 425;
/** __NR_io_uring_enter. */
export const NR_io_uring_enter = 426;

/** mmap offset of the submission queue ring. */
export const IORING_OFF_SQ_RING = 0;
/** mmap offset of the completion queue ring (unused with IORING_FEAT_SINGLE_MMAP). */
export const IORING_OFF_CQ_RING = 0x8000000;
/** mmap offset of the SQE array. */
export const IORING_OFF_SQES = 0x10000000;

/** io_uring_params.flags: a kernel thread (the SQ thread) polls the SQ ring and submits its SQEs. */
export const IORING_SETUP_SQPOLL = 1 << 1;
/** io_uring_params.flags: share the SQ thread (and io-wq) of the ring whose fd is in wq_fd. */
export const IORING_SETUP_ATTACH_WQ = 1 << 5;
/** io_uring_params.flags: keep submitting a batch past an SQE that fails at submission (Linux 5.18). */
export const IORING_SETUP_SUBMIT_ALL = 1 << 7;
/** io_uring_params.flags: task work runs when the task next enters the kernel, no IPI to interrupt it (Linux 5.19). */
export const IORING_SETUP_COOP_TASKRUN = 1 << 8;
/** io_uring_params.flags: only one thread (the creator) submits on the ring (Linux 6.0). */
export const IORING_SETUP_SINGLE_ISSUER = 1 << 12;
/** io_uring_params.flags: completion task work runs only in io_uring_enter(GETEVENTS) of the issuer (Linux 6.1; needs SINGLE_ISSUER). */
export const IORING_SETUP_DEFER_TASKRUN = 1 << 13;
/** io_uring_params.flags: no SQ index array; SQEs are taken in ring order (Linux 6.6). */
export const IORING_SETUP_NO_SQARRAY = 1 << 16;
/** io_uring_params.features: an SQPOLL ring takes SQEs on plain (not registered) fds (Linux 5.11). */
export const IORING_FEAT_SQPOLL_NONFIXED = 1 << 7;
/** io_sqring_offsets.flags bit: the SQ thread went to sleep; io_uring_enter(IORING_ENTER_SQ_WAKEUP) wakes it. */
export const IORING_SQ_NEED_WAKEUP = 1 << 0;
/** io_uring_enter flags: wake the SQ thread up (after IORING_SQ_NEED_WAKEUP). */
export const IORING_ENTER_SQ_WAKEUP = 1 << 1;
/** io_uring_params.features: the SQ and CQ rings share one mapping (IORING_OFF_SQ_RING). */
export const IORING_FEAT_SINGLE_MMAP = 1 << 0;
/** io_uring_enter flags: wait for min_complete completions. */
export const IORING_ENTER_GETEVENTS = 1 << 0;

/** io_uring_sqe.opcode: vectored read (like readv/preadv2). */
export const IORING_OP_READV = 1;
/** io_uring_sqe.opcode: vectored write (like writev/pwritev2). */
export const IORING_OP_WRITEV = 2;
/**
 * linux/fs.h `RWF_NOWAIT`, as an SQE's rw_flags: fail with EAGAIN instead of waiting. Without it
 * io_uring waits for room itself (it polls the file and retries), and io_uring_enter blocks.
 */
export const RWF_NOWAIT = 0x00000008;

/** __NR_io_uring_register. */
export const NR_io_uring_register = 427;
/** io_uring_register opcode: register an array of fds (an SQE with IOSQE_FIXED_FILE names one by index). */
export const IORING_REGISTER_FILES = 2;
/** io_uring_sqe.flags: `fd` is an index into the registered files (no fget/fput per SQE). */
export const IOSQE_FIXED_FILE = 1 << 0;
/** io_uring_register opcode: drop the registered fds (their references go with it, at once). */
export const IORING_UNREGISTER_FILES = 3;
/** io_uring_sqe.opcode: write of one buffer (like write/pwrite2; addr and len name the buffer, no iovec). */
export const IORING_OP_WRITE = 23;

/** sizeof(struct io_uring_params). */
export const IO_URING_PARAMS_SIZE = 120;
/** struct io_uring_params field offsets. */
export const IO_URING_PARAMS = {
  sq_entries: 0,
  cq_entries: 4,
  flags: 8,
  sq_thread_cpu: 12,
  /** Milliseconds the SQ thread polls an empty ring before it sleeps (SQPOLL). */
  sq_thread_idle: 16,
  features: 20,
  /** The ring to share the SQ thread of (IORING_SETUP_ATTACH_WQ). */
  wq_fd: 24,
  /** struct io_sqring_offsets sq_off */
  sq_off: 40,
  /** struct io_cqring_offsets cq_off */
  cq_off: 80,
} as const;
/** struct io_sqring_offsets field offsets (u32 each). */
export const IO_SQRING_OFFSETS = { head: 0, tail: 4, ring_mask: 8, ring_entries: 12, flags: 16, dropped: 20, array: 24 } as const;
/** struct io_cqring_offsets field offsets (u32 each). */
export const IO_CQRING_OFFSETS = { head: 0, tail: 4, ring_mask: 8, ring_entries: 12, overflow: 16, cqes: 20, flags: 24 } as const;

/** sizeof(struct io_uring_sqe) without IORING_SETUP_SQE128. */
export const IO_URING_SQE_SIZE = 64;
/** struct io_uring_sqe field offsets. */
export const IO_URING_SQE = { opcode: 0, flags: 1, ioprio: 2, fd: 4, off: 8, addr: 16, len: 24, rw_flags: 28, user_data: 32 } as const;

/** sizeof(struct io_uring_cqe) without IORING_SETUP_CQE32. */
export const IO_URING_CQE_SIZE = 16;
/** struct io_uring_cqe field offsets. */
export const IO_URING_CQE = { user_data: 0, res: 8, flags: 12 } as const;
