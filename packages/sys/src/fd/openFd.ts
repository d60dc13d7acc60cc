import { checkSys } from '../checkSys.ts';
import { O_CLOEXEC, O_RDWR } from '../linux/fcntl.ts';
import { libc } from '../native/libc.ts';

/** Opens `path` (always with O_CLOEXEC) and returns the fd; the caller owns it and closes it with closeFd. */
export function openFd(path: string, flags: number = O_RDWR, hint?: string): number {
  return checkSys(libc.open(path, flags | O_CLOEXEC, 0), 'open', undefined, path, hint);
}
