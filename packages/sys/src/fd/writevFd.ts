import { libc } from '../native/libc.ts';
import { ioResult } from './ioResult.ts';
import type { IoVecArray } from './IoVecArray.ts';

const writev = libc.writev;

/**
 * Gather-writes the `iov.length` buffers of `iov` (e.g. vnet header + guest TX buffers) as one
 * frame. Returns the bytes written, or -1 when a non-blocking fd would block (EAGAIN).
 */
export function writevFd(fd: number, iov: IoVecArray): number {
  for (;;) {
    // NATIVE: iov.address points into iov's own ArrayBuffer; the iov_base addresses must stay mapped during the call.
    const r = ioResult(writev(fd, iov.address, iov.length), 'writev', fd);
    if (r !== undefined) return r;
  }
}
