import { libc } from '../native/libc.ts';
import { ioResult } from './ioResult.ts';

const write = libc.write;

/**
 * Writes `buf` (zero-copy). Returns the bytes written (a tap takes a whole frame or nothing),
 * or -1 when a non-blocking fd would block (EAGAIN). EINTR is retried; other errors throw.
 */
export function writeFd(fd: number, buf: Uint8Array): number {
  for (;;) {
    // NATIVE: `buf` is passed by address for the duration of the call only.
    const r = ioResult(write(fd, buf, buf.byteLength), 'write', fd);
    if (r !== undefined) return r;
  }
}
