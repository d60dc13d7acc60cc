import { checkSys } from '../checkSys.ts';
import { F_DUPFD_CLOEXEC } from '../linux/fcntl.ts';
import { libc } from '../native/libc.ts';

/** Duplicates an fd (F_DUPFD_CLOEXEC); the caller owns the new fd. */
export function dupFd(fd: number): number {
  return checkSys(libc.fcntl(fd, F_DUPFD_CLOEXEC, 0), 'fcntl', 'F_DUPFD_CLOEXEC', `fd ${fd}`);
}
