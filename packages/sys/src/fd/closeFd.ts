import { EINTR } from '../linux/errno.ts';
import { libc } from '../native/libc.ts';
import { SysError } from '../SysError.ts';

/**
 * Closes an fd. EINTR is not an error (Linux releases the fd anyway, retrying could close a
 * reused number); EBADF throws, since it means a double close somewhere.
 */
export function closeFd(fd: number): void {
  if (libc.close(fd) === 0) return;
  const errno = libc.errno();
  if (errno !== EINTR) throw new SysError({ syscall: 'close', errno, target: `fd ${fd}` });
}
