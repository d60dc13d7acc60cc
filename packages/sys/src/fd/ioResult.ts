import { EAGAIN, EINTR } from '../linux/errno.ts';
import { libc } from '../native/libc.ts';
import { SysError } from '../SysError.ts';

/**
 * The errno policy of the non-blocking fd I/O calls (readFd, writeFd, readvFd, writevFd), applied
 * to a call's return value `n`: `n` itself when it is a byte count, -1 on EAGAIN (nothing to read,
 * or the write would block), undefined on EINTR (the caller retries); any other errno throws a
 * SysError naming `syscall` and `fd ${fd}`. Read errno right after the call, before any other one.
 */
export function ioResult(n: number, syscall: string, fd: number): number | undefined {
  if (n >= 0) return n;
  const errno = libc.errno();
  if (errno === EAGAIN) return -1;
  if (errno === EINTR) return undefined;
  throw new SysError({ syscall, errno, target: `fd ${fd}` });
}
