import { EAGAIN, EINTR } from '../linux/errno.ts';
import { libc } from '../native/libc.ts';
import { SysError } from '../SysError.ts';
import type { IoVecArray } from './IoVecArray.ts';

const readv = libc.readv;

/**
 * Scatter-reads into the `iov.length` buffers of `iov` (e.g. guest RX buffers by host address).
 * Returns the byte count, or -1 when a non-blocking fd has nothing (EAGAIN); EINTR is retried.
 */
export function readvFd(fd: number, iov: IoVecArray): number {
  for (;;) {
    // NATIVE: iov.address points into iov's own ArrayBuffer; the iov_base addresses must stay mapped during the call.
    const n = readv(fd, iov.address, iov.length);
    if (n >= 0) return n;
    const errno = libc.errno();
    if (errno === EAGAIN) return -1;
    if (errno !== EINTR) throw new SysError({ syscall: 'readv', errno, target: `fd ${fd}` });
  }
}
