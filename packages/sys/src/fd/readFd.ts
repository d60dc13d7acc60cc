import { libc } from '../native/libc.ts';
import { ioResult } from './ioResult.ts';

const read = libc.read;

/**
 * Reads into `buf` (zero-copy: the kernel writes straight into its memory). Returns the byte
 * count (0 at end of file), or -1 when a non-blocking fd has nothing to read (EAGAIN).
 * EINTR is retried; any other error throws a SysError.
 */
export function readFd(fd: number, buf: Uint8Array): number {
  for (;;) {
    // NATIVE: `buf` is passed by address for the duration of the call only.
    const r = ioResult(read(fd, buf, buf.byteLength), 'read', fd);
    if (r !== undefined) return r;
  }
}
