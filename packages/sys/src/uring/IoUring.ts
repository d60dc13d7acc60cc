import { VnicError } from '@vnic/core';
import { EINTR, EOPNOTSUPP } from '../linux/errno.ts';
import {
  IO_CQRING_OFFSETS,
  IO_SQRING_OFFSETS,
  IO_URING_CQE,
  IO_URING_CQE_SIZE,
  IO_URING_PARAMS,
  IO_URING_PARAMS_SIZE,
  IO_URING_SQE_SIZE,
  IORING_ENTER_GETEVENTS,
  IORING_FEAT_SINGLE_MMAP,
  IORING_OFF_CQ_RING,
  IORING_OFF_SQ_RING,
  IORING_OFF_SQES,
  IORING_OP_READV,
  IORING_OP_WRITEV,
  RWF_NOWAIT,
  NR_io_uring_enter,
} from '../linux/io_uring.ts';
import { IORING_OP_WRITE, IORING_REGISTER_FILES, IORING_UNREGISTER_FILES, IOSQE_FIXED_FILE, NR_io_uring_register } from '../linux/io_uring.ts';
import {
  IORING_SETUP_COOP_TASKRUN,
  IORING_SETUP_DEFER_TASKRUN,
  IORING_SETUP_NO_SQARRAY,
  IORING_SETUP_SINGLE_ISSUER,
  IORING_SETUP_SUBMIT_ALL,
} from '../linux/io_uring.ts';
import { IORING_ENTER_SQ_WAKEUP, IORING_FEAT_SQPOLL_NONFIXED, IORING_SETUP_ATTACH_WQ, IORING_SETUP_SQPOLL, IORING_SQ_NEED_WAKEUP } from '../linux/io_uring.ts';
import type { IoVecArray } from '../fd/IoVecArray.ts';
import { IOVEC_SIZE } from '../linux/socket.ts';
import { SharedMapping } from '../memory/SharedMapping.ts';
import { libc } from '../native/libc.ts';
import { SysError } from '../SysError.ts';
import type { IoUringOptions } from './IoUringOptions.ts';
import { setupIoUring } from './setupIoUring.ts';

const TWO_32 = 0x1_0000_0000;
const SQE_WORDS = IO_URING_SQE_SIZE / 4;
const CQE_WORDS = IO_URING_CQE_SIZE / 4;
const enter = libc.io_uring_enter;
/**
 * Setup flags tried for a `singleIssuer` ring, best first; a kernel that does not know one refuses
 * it (EINVAL) and the next is tried: NO_SQARRAY from 6.6, SINGLE_ISSUER + DEFER_TASKRUN from 6.1,
 * COOP_TASKRUN and SUBMIT_ALL from 5.19, none before.
 */
const SINGLE_ISSUER_FLAGS = [
  IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SUBMIT_ALL | IORING_SETUP_NO_SQARRAY,
  IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SUBMIT_ALL,
  IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SUBMIT_ALL,
  0,
] as const;

/**
 * A small io_uring (submission and completion ring, linux/io_uring.h) for batched vectored writes:
 * `prepWritev` writes an SQE straight into the mapped SQE array from JS (no native call),
 * `submitAndWait` publishes the queued SQEs with one `io_uring_enter` and waits until every one
 * of them has completed; the result of each (bytes, or -errno) is then in `results[userData]`.
 * Completions are always reaped before `submitAndWait` returns, so the buffers an SQE points to
 * may be reused (or handed back to a guest) right after it.
 *
 * With `sqPollIdleMs` (IORING_SETUP_SQPOLL) a kernel SQ thread runs the SQEs: `publish()` makes
 * the queued ones visible to it at once (no syscall while it polls), so they run while the caller
 * prepares the next ones; `submitAndWait` publishes the rest and waits for all of them.
 *
 * One thread uses a ring at a time. `close()` unmaps the rings and closes the fd.
 */
export class IoUring {
  /** The io_uring fd. */
  readonly fd: number;
  /** Submission queue entries: the most SQEs one `submitAndWait` takes. */
  readonly entries: number;
  /** The address of the SQE prepRw writes next (see prepRw). */
  private readonly sqeAddr = new Float64Array(1);
  /** results[userData] is the `res` of the last completion with that user_data (bytes, or -errno). */
  readonly results: Int32Array;
  private readonly mappings: SharedMapping[];
  // Views over the mapped rings; they dangle after close() (every method checks `closed` first).
  private readonly sq: Uint32Array;
  private readonly cq: Uint32Array;
  private readonly sqes: Uint32Array;
  private readonly sqHead: number;
  private readonly sqTail: number;
  private readonly sqMask: number;
  private readonly cqHead: number;
  private readonly cqTail: number;
  private readonly cqMask: number;
  private readonly cqes: number;
  /** Our copy of the SQ tail (the kernel never writes it). */
  private tail = 0;
  /** SQEs written and not yet published. */
  private queued = 0;
  /** SQEs published since the last submitAndWait (SQPOLL: the SQ thread may be running them). */
  private published = 0;
  /** True with IORING_SETUP_SQPOLL: a kernel SQ thread submits. */
  readonly sqPoll: boolean;
  /** The io_uring_params.flags the ring was set up with (IORING_SETUP_*). */
  readonly setupFlags: number;
  /** Index of the SQ ring's flags word (IORING_SQ_NEED_WAKEUP) in `sq`. */
  private readonly sqFlags: number;
  /** The fd registered as fixed file 0 (registerFile), or -1. */
  private fixedFd = -1;
  private closed = false;

  private constructor(fd: number, params: DataView, mappings: SharedMapping[], sqRing: SharedMapping, cqRing: SharedMapping, sqes: SharedMapping) {
    this.fd = fd;
    this.mappings = mappings;
    const sqOff = IO_URING_PARAMS.sq_off;
    const cqOff = IO_URING_PARAMS.cq_off;
    const u32 = (off: number): number => params.getUint32(off, true);
    this.entries = u32(IO_URING_PARAMS.sq_entries);
    this.results = new Int32Array(this.entries);
    // NATIVE: views of the ring mappings, valid until close() unmaps them.
    this.sq = new Uint32Array(libc.view(sqRing.addr, sqRing.length));
    this.cq = new Uint32Array(libc.view(cqRing.addr, cqRing.length));
    this.sqes = new Uint32Array(libc.view(sqes.addr, sqes.length));
    this.sqHead = u32(sqOff + IO_SQRING_OFFSETS.head) / 4;
    this.sqTail = u32(sqOff + IO_SQRING_OFFSETS.tail) / 4;
    this.sqMask = this.sq[u32(sqOff + IO_SQRING_OFFSETS.ring_mask) / 4]!;
    this.sqFlags = u32(sqOff + IO_SQRING_OFFSETS.flags) / 4;
    this.setupFlags = u32(IO_URING_PARAMS.flags);
    this.sqPoll = (this.setupFlags & IORING_SETUP_SQPOLL) !== 0;
    this.cqHead = u32(cqOff + IO_CQRING_OFFSETS.head) / 4;
    this.cqTail = u32(cqOff + IO_CQRING_OFFSETS.tail) / 4;
    this.cqMask = this.cq[u32(cqOff + IO_CQRING_OFFSETS.ring_mask) / 4]!;
    this.cqes = u32(cqOff + IO_CQRING_OFFSETS.cqes) / 4;
    this.tail = this.sq[this.sqTail]!;
    // The SQ index array maps ring slot i to SQE i, once: SQEs are written in ring order
    // (IORING_SETUP_NO_SQARRAY: there is no array, the kernel takes them in ring order itself).
    if ((this.setupFlags & IORING_SETUP_NO_SQARRAY) === 0) {
      const array = u32(sqOff + IO_SQRING_OFFSETS.array) / 4;
      for (let i = 0; i < this.entries; i++) this.sq[array + i] = i;
    }
  }

  /**
   * io_uring_setup with `entries` submission entries (rounded up to a power of two by the kernel)
   * and the rings mapped. Throws SysError (syscall `io_uring_setup`) where io_uring is not
   * available: ENOSYS (not built), EPERM (sysctl kernel.io_uring_disabled, seccomp), ENOMEM; with
   * `attachTo`, EBADF or EINVAL when it is not a live SQPOLL ring. A kernel whose SQPOLL rings
   * take registered files only (before Linux 5.11) is refused (EOPNOTSUPP). With `singleIssuer`
   * the best setup flags the kernel takes are used (see IoUringOptions.singleIssuer).
   */
  static create(entries: number, options: IoUringOptions = {}): IoUring {
    if (!Number.isInteger(entries) || entries < 1 || entries > 4096) {
      throw new VnicError('invalid-argument', `io_uring entries ${entries} is not an integer in 1..4096`);
    }
    const idle = options.sqPollIdleMs;
    if (idle !== undefined && !(Number.isInteger(idle) && idle >= 1 && idle <= 60_000)) {
      throw new VnicError('invalid-argument', `io_uring sqPollIdleMs ${idle} is not an integer in 1..60000`);
    }
    if (options.attachTo !== undefined && idle === undefined) throw new VnicError('invalid-argument', 'io_uring attachTo needs sqPollIdleMs');
    if (options.singleIssuer === true && idle !== undefined)
      throw new VnicError('invalid-argument', 'io_uring singleIssuer and sqPollIdleMs exclude each other');
    const params = new Uint8Array(IO_URING_PARAMS_SIZE);
    if (idle !== undefined) {
      const p = new DataView(params.buffer);
      p.setUint32(IO_URING_PARAMS.flags, IORING_SETUP_SQPOLL | (options.attachTo === undefined ? 0 : IORING_SETUP_ATTACH_WQ), true);
      p.setUint32(IO_URING_PARAMS.sq_thread_idle, idle, true);
      if (options.attachTo !== undefined) p.setUint32(IO_URING_PARAMS.wq_fd, options.attachTo, true);
    }
    const { fd, errno } = setupIoUring(entries, params, options.singleIssuer === true ? SINGLE_ISSUER_FLAGS : [0]);
    if (fd < 0) {
      throw new SysError({
        syscall: 'io_uring_setup',
        errno,
        target: `${entries} entries`,
        hint: 'io_uring is not available here (kernel.io_uring_disabled, seccomp, or not built in): use the writev path',
      });
    }
    const target = `io_uring fd ${fd}`;
    const mappings: SharedMapping[] = [];
    try {
      const view = new DataView(params.buffer);
      const u32 = (off: number): number => view.getUint32(off, true);
      const sqEntries = u32(IO_URING_PARAMS.sq_entries);
      const cqEntries = u32(IO_URING_PARAMS.cq_entries);
      const cqSize = u32(IO_URING_PARAMS.cq_off + IO_CQRING_OFFSETS.cqes) + IO_URING_CQE_SIZE * cqEntries;
      const noArray = (u32(IO_URING_PARAMS.flags) & IORING_SETUP_NO_SQARRAY) !== 0;
      const sqSize = noArray ? cqSize : u32(IO_URING_PARAMS.sq_off + IO_SQRING_OFFSETS.array) + 4 * sqEntries;
      const single = (u32(IO_URING_PARAMS.features) & IORING_FEAT_SINGLE_MMAP) !== 0;
      if (idle !== undefined && (u32(IO_URING_PARAMS.features) & IORING_FEAT_SQPOLL_NONFIXED) === 0) {
        throw new SysError({
          syscall: 'io_uring_setup',
          request: 'IORING_SETUP_SQPOLL',
          errno: EOPNOTSUPP,
          target,
          hint: 'this kernel (before 5.11) polls registered files only',
        });
      }
      const sqRing = SharedMapping.map(fd, single ? Math.max(sqSize, cqSize) : sqSize, IORING_OFF_SQ_RING, `${target} SQ ring`);
      mappings.push(sqRing);
      let cqRing = sqRing;
      if (!single) {
        cqRing = SharedMapping.map(fd, cqSize, IORING_OFF_CQ_RING, `${target} CQ ring`);
        mappings.push(cqRing);
      }
      const sqes = SharedMapping.map(fd, IO_URING_SQE_SIZE * sqEntries, IORING_OFF_SQES, `${target} SQEs`);
      mappings.push(sqes);
      return new IoUring(fd, view, mappings, sqRing, cqRing, sqes);
    } catch (e) {
      for (const m of mappings) m.unmap(target);
      libc.close(fd);
      throw e;
    }
  }

  /** SQEs queued and not yet submitted (published ones included until submitAndWait). */
  get pending(): number {
    return this.queued + this.published;
  }

  /** True once close() ran. */
  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Queues an IORING_OP_WRITEV of the `iovcnt` struct iovecs at host address `iovAddr` to `fd`
   * (at the file position: off = -1). The iovecs and their buffers must stay valid until
   * `submitAndWait` returns. `userData` (0..entries-1) names the slot of `results` that gets the
   * result. With `noWait` (RWF_NOWAIT) a write that finds no room completes at once with -EAGAIN;
   * without it io_uring waits for room and `submitAndWait` blocks meanwhile. Throws when `entries`
   * SQEs are already queued.
   */
  prepWritev(fd: number, iovAddr: number, iovcnt: number, userData: number, noWait = false): void {
    this.sqeAddr[0] = iovAddr;
    this.prepRw(IORING_OP_WRITEV, fd, iovcnt, userData, noWait);
  }

  /**
   * Queues an IORING_OP_WRITEV of iovecs `start`..`start + iovcnt - 1` of `iov`, as prepWritev
   * does (the address is worked out here, so the caller passes no host address as an argument).
   */
  prepWritevOf(fd: number, iov: IoVecArray, start: number, iovcnt: number, userData: number, noWait = false): void {
    this.sqeAddr[0] = iov.hostAddress + IOVEC_SIZE * start;
    this.prepRw(IORING_OP_WRITEV, fd, iovcnt, userData, noWait);
  }

  /** Queues an IORING_OP_READV into iovecs `start`..`start + iovcnt - 1` of `iov`, as prepReadv does (see prepWritevOf). */
  prepReadvOf(fd: number, iov: IoVecArray, start: number, iovcnt: number, userData: number, noWait = false): void {
    this.sqeAddr[0] = iov.hostAddress + IOVEC_SIZE * start;
    this.prepRw(IORING_OP_READV, fd, iovcnt, userData, noWait);
  }

  /**
   * Queues an IORING_OP_READV into the `iovcnt` struct iovecs at host address `iovAddr` from `fd`
   * (at the file position), like prepWritev. With `noWait` (RWF_NOWAIT) a read that finds nothing
   * completes at once with -EAGAIN (a file that does not take RWF_NOWAIT from io_uring, like a tun
   * before Linux 6.2 or so, completes with -EOPNOTSUPP); the SQEs of one submit run in order.
   */
  prepReadv(fd: number, iovAddr: number, iovcnt: number, userData: number, noWait = false): void {
    this.sqeAddr[0] = iovAddr;
    this.prepRw(IORING_OP_READV, fd, iovcnt, userData, noWait);
  }

  /**
   * Writes the SQE of a read or write of `iovcnt` (iovecs or bytes) at the address in sqeAddr[0].
   * The prep* methods pass the address through sqeAddr, not as an argument: a host address is
   * above 2^31, and a Number that large passed to a call the JIT does not inline is a heap number
   * made per SQE. prepWrite/prepWritev/prepReadv still take it as an argument (they inline into
   * callers, but not surely: a large caller's inlining budget can run out); a hot path uses
   * prepWriteAt, prepWritevOf and prepReadvOf, which get the address out of a typed array or the
   * iovec array's own field.
   */
  private prepRw(opcode: number, fd: number, iovcnt: number, userData: number, noWait: boolean): void {
    const iovAddr = this.sqeAddr[0]!;
    if (this.closed) throw new VnicError('invalid-state', 'io_uring is closed');
    const n = this.queued;
    if (n + this.published === this.entries) throw new VnicError('invalid-state', `io_uring submission queue is full (${this.entries} entries): submit first`);
    if (!(userData >= 0 && userData < this.entries)) throw new VnicError('invalid-argument', `io_uring user_data ${userData} is not in 0..${this.entries - 1}`);
    const w = this.sqes;
    const b = ((this.tail + n) & this.sqMask) * SQE_WORDS;
    const addrLo = iovAddr >>> 0; // iovAddr mod 2^32 (an integer below 2^53)
    w[b] = opcode; // flags 0, ioprio 0
    w[b + 1] = fd;
    w[b + 2] = 0xffffffff; // off = -1: the current file position (stream files ignore it)
    w[b + 3] = 0xffffffff;
    w[b + 4] = addrLo;
    w[b + 5] = (iovAddr - addrLo) / TWO_32;
    w[b + 6] = iovcnt;
    w[b + 7] = noWait ? RWF_NOWAIT : 0; // rw_flags
    w[b + 8] = userData;
    // The rest of the 64-byte SQE (user_data high word, buf_index, personality, file_index, addr3):
    // plain stores, cheaper per SQE than a TypedArray fill.
    w[b + 9] = 0;
    w[b + 10] = 0;
    w[b + 11] = 0;
    w[b + 12] = 0;
    w[b + 13] = 0;
    w[b + 14] = 0;
    w[b + 15] = 0;
    if (fd === this.fixedFd) {
      w[b] = w[b] | (IOSQE_FIXED_FILE << 8); // sqe->flags: `fd` is the registered file's index
      w[b + 1] = 0;
    }
    this.queued = n + 1;
  }

  /**
   * Queues an IORING_OP_WRITE of the `len` bytes at host address `addr` to `fd`: a frame in one
   * buffer, with no iovec for the kernel to import. Otherwise as prepWritev.
   */
  prepWrite(fd: number, addr: number, len: number, userData: number, noWait = false): void {
    this.sqeAddr[0] = addr;
    this.prepRw(IORING_OP_WRITE, fd, len, userData, noWait); // the same SQE fields: addr, len
  }

  /** As prepWrite, of the `len` bytes at host address `src[at]` (read here: no host address passed as an argument, see prepRw). */
  prepWriteAt(fd: number, src: Float64Array, at: number, len: number, userData: number, noWait = false): void {
    this.sqeAddr[0] = src[at]!;
    this.prepRw(IORING_OP_WRITE, fd, len, userData, noWait);
  }

  /**
   * Registers `fd` as the ring's one fixed file (IORING_REGISTER_FILES): SQEs for `fd` then name it
   * by index with IOSQE_FIXED_FILE, and the kernel skips looking the fd up (and referencing it) per
   * SQE. The fd must stay open while the ring lives. Throws SysError (io_uring_register), e.g. when
   * a file is registered already (EBUSY).
   */
  registerFile(fd: number): void {
    if (this.closed) throw new VnicError('invalid-state', 'io_uring is closed');
    const fds = Int32Array.of(fd);
    // NATIVE: the kernel copies the fd array during the call.
    if (libc.io_uring_register(NR_io_uring_register, this.fd, IORING_REGISTER_FILES, fds, 1) < 0) {
      throw new SysError({ syscall: 'io_uring_register', request: 'IORING_REGISTER_FILES', errno: libc.errno(), target: `io_uring fd ${this.fd}` });
    }
    this.fixedFd = fd;
  }

  /**
   * Moves the SQ tail over the queued SQEs. On an SQPOLL ring the SQ thread starts on them now
   * (woken with one io_uring_enter when it went to sleep); otherwise the kernel takes them at the
   * next submitAndWait. Their buffers must stay valid until submitAndWait returns.
   */
  publish(): void {
    const n = this.queued;
    if (n === 0) return;
    const sq = this.sq;
    this.tail = (this.tail + n) >>> 0;
    this.queued = 0;
    this.published += n;
    Atomics.store(sq, this.sqTail, this.tail); // a full barrier: the SQEs written before, then the tail; then the flags are read
    if (this.sqPoll && (Atomics.load(sq, this.sqFlags) & IORING_SQ_NEED_WAKEUP) !== 0) this.enter(0, 0, IORING_ENTER_SQ_WAKEUP);
  }

  /**
   * Submits every queued SQE (publish) and waits until every SQE published since the last call
   * completed (io_uring_enter with min_complete and GETEVENTS; on an SQPOLL ring to_submit is 0
   * and the SQ thread is woken if it sleeps); fills `results`. Returns the number submitted.
   * Throws SysError when io_uring_enter itself fails (not for a failed operation: that is a
   * negative result).
   */
  submitAndWait(): number {
    if (this.closed) throw new VnicError('invalid-state', 'io_uring is closed');
    this.publish();
    const n = this.published;
    if (n === 0) return 0;
    this.published = 0;
    const sq = this.sq;
    let inFlight = n - this.reap();
    while (inFlight > 0) {
      if (this.sqPoll) {
        const wake = (Atomics.load(sq, this.sqFlags) & IORING_SQ_NEED_WAKEUP) !== 0 ? IORING_ENTER_SQ_WAKEUP : 0;
        this.enter(0, inFlight, IORING_ENTER_GETEVENTS | wake);
      } else {
        this.enter((this.tail - Atomics.load(sq, this.sqHead)) >>> 0, inFlight, IORING_ENTER_GETEVENTS);
      }
      inFlight -= this.reap();
    }
    return n;
  }

  /** io_uring_enter on this ring; EINTR is not an error (the caller loops on what is left). */
  private enter(toSubmit: number, minComplete: number, flags: number): void {
    if (enter(NR_io_uring_enter, this.fd, toSubmit, minComplete, flags, null, 0) < 0) {
      const errno = libc.errno();
      if (errno !== EINTR) throw new SysError({ syscall: 'io_uring_enter', errno, target: `io_uring fd ${this.fd}` });
    }
  }

  /** Consumes every posted CQE into `results`; returns how many. */
  private reap(): number {
    const cq = this.cq;
    let head = cq[this.cqHead]!;
    const tail = Atomics.load(cq, this.cqTail);
    const count = (tail - head) >>> 0;
    const results = this.results;
    for (; head !== tail; head = (head + 1) >>> 0) {
      const b = this.cqes + (head & this.cqMask) * CQE_WORDS;
      const userData = cq[b + IO_URING_CQE.user_data / 4]!;
      if (userData < results.length) results[userData] = cq[b + IO_URING_CQE.res / 4]! | 0;
    }
    Atomics.store(cq, this.cqHead, tail);
    return count;
  }

  /**
   * Drops the registered file (IORING_UNREGISTER_FILES), if any: the ring's reference to it goes
   * now, so closing the fd afterwards really closes the file (closing the ring alone drops it
   * later, from a kernel worker). SQEs then name the fd again. Throws SysError (io_uring_register).
   */
  unregisterFile(): void {
    if (this.closed || this.fixedFd < 0) return;
    if (libc.io_uring_register(NR_io_uring_register, this.fd, IORING_UNREGISTER_FILES, null, 0) < 0) {
      throw new SysError({ syscall: 'io_uring_register', request: 'IORING_UNREGISTER_FILES', errno: libc.errno(), target: `io_uring fd ${this.fd}` });
    }
    this.fixedFd = -1;
  }

  /**
   * Unregisters the fixed file (see unregisterFile), unmaps the rings and closes the fd;
   * idempotent. Queued, unsubmitted SQEs are dropped.
   */
  close(): void {
    if (this.closed) return;
    const target = `io_uring fd ${this.fd}`;
    let unregisterError: Error | undefined;
    try {
      this.unregisterFile();
    } catch (e) {
      unregisterError = e as Error; // a SysError; the ring closes anyway (the kernel drops the file later)
    }
    this.closed = true;
    const closeRing = (): void => {
      if (libc.close(this.fd) < 0) throw new SysError({ syscall: 'close', errno: libc.errno(), target });
    };
    try {
      for (const m of this.mappings) m.unmap(target);
    } catch (e) {
      closeRing(); // the fd closes even when an unmap fails; a close failure wins over the unmap's
      throw e;
    }
    closeRing();
    if (unregisterError !== undefined) throw unregisterError;
  }
}
