import { EAGAIN, EINTR } from '../linux/errno.ts';
import { libc } from '../native/libc.ts';
import { SysError } from '../SysError.ts';
import type { IoVecArray } from './IoVecArray.ts';

const writev = libc.writev;

/**
 * Gather-writes the `iov.length` buffers of `iov` (e.g. vnet header + guest TX buffers) as one
 * frame. Returns the bytes written, or -1 when a non-blocking fd would block (EAGAIN).
 */
export function writevFd(fd: number, iov: IoVecArray): number {
  for (;;) {
    // NATIVE: iov.address points into iov's own ArrayBuffer; the iov_base addresses must stay mapped during the call.
    const n = writev(fd, iov.address, iov.length);
    if (n >= 0) return n;
    const errno = libc.errno();
    if (errno === EAGAIN) return -1;
    if (errno !== EINTR) throw new SysError({ syscall: 'writev', errno, target: `fd ${fd}` });
  }
}
