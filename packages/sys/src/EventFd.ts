import { VnicError } from '@vnic/core';
import { checkSys } from './checkSys.ts';
import { closeFd } from './fd/closeFd.ts';
import { EAGAIN, EINTR } from './linux/errno.ts';
import { EFD_CLOEXEC, EFD_NONBLOCK, EFD_SEMAPHORE } from './linux/fcntl.ts';
import { libc } from './native/libc.ts';
import { SysError } from './SysError.ts';

/** Options of EventFd.create. */
export interface EventFdOptions {
  /** Initial counter value (default 0). */
  readonly initial?: number;
  /** EFD_NONBLOCK: read returns undefined instead of blocking when the counter is 0. */
  readonly nonBlocking?: boolean;
  /** EFD_SEMAPHORE: each read returns 1 and decrements the counter. */
  readonly semaphore?: boolean;
}

// NATIVE: one 8-byte scratch per thread (module instance) for the eventfd counter; sync calls only.
const scratch = new ArrayBuffer(8);
const scratchU64 = new BigUint64Array(scratch);
const scratchU32 = new Uint32Array(scratch);
const scratchAddr = libc.address(scratch);
const TWO_32 = 0x1_0000_0000;

/**
 * An eventfd (the kick and call notifiers of a virtqueue; KVM ioeventfd/irqfd on the VMM side).
 * Owns its fd; `close()` is idempotent.
 */
export class EventFd {
  private fdValue: number;

  private constructor(fd: number) {
    this.fdValue = fd;
  }

  /** Creates an eventfd with EFD_CLOEXEC (plus EFD_NONBLOCK / EFD_SEMAPHORE as asked). */
  static create(options: EventFdOptions = {}): EventFd {
    const flags = EFD_CLOEXEC | (options.nonBlocking === true ? EFD_NONBLOCK : 0) | (options.semaphore === true ? EFD_SEMAPHORE : 0);
    return new EventFd(checkSys(libc.eventfd(options.initial ?? 0, flags), 'eventfd'));
  }

  /** Wraps an eventfd received from elsewhere (SCM_RIGHTS, a VMM); takes ownership of `fd`. */
  static fromFd(fd: number): EventFd {
    if (!Number.isInteger(fd) || fd < 0) throw new VnicError('invalid-argument', `eventfd ${fd} is not a valid fd`);
    return new EventFd(fd);
  }

  /** The fd (throws once closed). */
  get fd(): number {
    if (this.fdValue < 0) throw new VnicError('invalid-state', 'eventfd is closed');
    return this.fdValue;
  }

  /** True once close() ran. */
  get closed(): boolean {
    return this.fdValue < 0;
  }

  /**
   * Adds `n` (default 1) to the counter: a kick or a call. Returns false when a non-blocking
   * eventfd would overflow (EAGAIN); a blocking one waits.
   */
  write(n: bigint | number = 1n): boolean {
    const fd = this.fd;
    if (typeof n === 'number') {
      if (!Number.isSafeInteger(n) || n < 0) throw new VnicError('invalid-argument', `eventfd increment ${n} is not a non-negative safe integer`);
      const lo = n % TWO_32;
      scratchU32[0] = lo;
      scratchU32[1] = (n - lo) / TWO_32;
    } else {
      scratchU64[0] = n;
    }
    for (;;) {
      const n = libc.write(fd, scratchAddr, 8);
      if (n === 8) return true;
      if (n >= 0) throw short('write', fd, n);
      const errno = libc.errno();
      if (errno === EAGAIN) return false;
      if (errno !== EINTR) throw new SysError({ syscall: 'write', errno, target: `eventfd ${fd}` });
    }
  }

  /**
   * Reads and resets the counter (semaphore mode: reads 1). Returns undefined when a
   * non-blocking eventfd is at 0 (EAGAIN); a blocking one waits.
   */
  read(): bigint | undefined {
    const fd = this.fd;
    for (;;) {
      const n = libc.read(fd, scratchAddr, 8);
      if (n === 8) return scratchU64[0];
      // errno is only meaningful after -1: a short count (0 = end of stream) means this is no eventfd.
      if (n >= 0) throw short('read', fd, n);
      const errno = libc.errno();
      if (errno === EAGAIN) return undefined;
      if (errno !== EINTR) throw new SysError({ syscall: 'read', errno, target: `eventfd ${fd}` });
    }
  }

  /** Closes the fd; later calls do nothing. */
  close(): void {
    const fd = this.fdValue;
    if (fd < 0) return;
    this.fdValue = -1;
    closeFd(fd);
  }
}

/** A read or write of an eventfd that moved other than 8 bytes: the fd is not an eventfd (a socket or pipe, perhaps closed). */
function short(syscall: 'read' | 'write', fd: number, n: number): VnicError {
  return new VnicError(
    'invalid-state',
    `${syscall} eventfd ${fd}: ${n === 0 ? 'end of stream (0 bytes)' : `${n} bytes`} instead of the 8-byte counter: the fd is not an eventfd (a socket or pipe whose peer may have closed); pass an eventfd`,
  );
}
