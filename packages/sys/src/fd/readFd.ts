import { EAGAIN, EINTR } from '../linux/errno.ts';
import { libc } from '../native/libc.ts';
import { SysError } from '../SysError.ts';

const read = libc.read;

/**
 * Reads into `buf` (zero-copy: the kernel writes straight into its memory). Returns the byte
 * count (0 at end of file), or -1 when a non-blocking fd has nothing to read (EAGAIN).
 * EINTR is retried; any other error throws a SysError.
 */
export function readFd(fd: number, buf: Uint8Array): number {
  for (;;) {
    // NATIVE: `buf` is passed by address for the duration of the call only.
    const n = read(fd, buf, buf.byteLength);
    if (n >= 0) return n;
    const errno = libc.errno();
    if (errno === EAGAIN) return -1;
    if (errno !== EINTR) throw new SysError({ syscall: 'read', errno, target: `fd ${fd}` });
  }
}
