import { libc } from '../native/libc.ts';
import { ioResult } from './ioResult.ts';
import type { IoVecArray } from './IoVecArray.ts';

const readv = libc.readv;

/**
 * Scatter-reads into the `iov.length` buffers of `iov` (e.g. guest RX buffers by host address).
 * Returns the byte count, or -1 when a non-blocking fd has nothing (EAGAIN); EINTR is retried.
 */
export function readvFd(fd: number, iov: IoVecArray): number {
  for (;;) {
    // NATIVE: iov.address points into iov's own ArrayBuffer; the iov_base addresses must stay mapped during the call.
    const r = ioResult(readv(fd, iov.address, iov.length), 'readv', fd);
    if (r !== undefined) return r;
  }
}
