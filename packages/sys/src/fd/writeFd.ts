import { EAGAIN, EINTR } from '../linux/errno.ts';
import { libc } from '../native/libc.ts';
import { SysError } from '../SysError.ts';

const write = libc.write;

/**
 * Writes `buf` (zero-copy). Returns the bytes written (a tap takes a whole frame or nothing),
 * or -1 when a non-blocking fd would block (EAGAIN). EINTR is retried; other errors throw.
 */
export function writeFd(fd: number, buf: Uint8Array): number {
  for (;;) {
    // NATIVE: `buf` is passed by address for the duration of the call only.
    const n = write(fd, buf, buf.byteLength);
    if (n >= 0) return n;
    const errno = libc.errno();
    if (errno === EAGAIN) return -1;
    if (errno !== EINTR) throw new SysError({ syscall: 'write', errno, target: `fd ${fd}` });
  }
}
