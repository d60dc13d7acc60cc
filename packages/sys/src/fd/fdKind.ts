import { readlinkSync } from 'node:fs';

/**
 * What an fd is, as /proc/self/fd/<fd> names it: `anon_inode:[eventfd]`, `pipe:[1234]`,
 * `socket:[5678]`, `/memfd:name (deleted)`, a path. Undefined when the fd is not open.
 */
export function fdKind(fd: number): string | undefined {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return undefined;
  }
}

/** True when `fd` is an eventfd (its /proc/self/fd link is `anon_inode:[eventfd]`). */
export function isEventFd(fd: number): boolean {
  return fdKind(fd) === 'anon_inode:[eventfd]';
}
