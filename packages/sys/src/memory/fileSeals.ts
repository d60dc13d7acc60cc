import { checkSys } from '../checkSys.ts';
import { F_ADD_SEALS, F_GET_SEALS } from '../linux/fcntl.ts';
import { libc } from '../native/libc.ts';
import { EINVAL } from '../linux/errno.ts';

/**
 * The seals of a memfd (fcntl F_GET_SEALS: F_SEAL_SHRINK, F_SEAL_GROW, ...), or undefined when the
 * file cannot carry seals (EINVAL: not a memfd or shmem file). Throws a SysError otherwise.
 */
export function fileSeals(fd: number): number | undefined {
  const r = libc.fcntl(fd, F_GET_SEALS, 0);
  if (r >= 0) return r;
  if (libc.errno() === EINVAL) return undefined;
  return checkSys(r, 'fcntl', 'F_GET_SEALS', `fd ${fd}`);
}

/** Adds `seals` to a memfd made with MFD_ALLOW_SEALING (fcntl F_ADD_SEALS). Throws a SysError on failure. */
export function addFileSeals(fd: number, seals: number): void {
  checkSys(libc.fcntl(fd, F_ADD_SEALS, seals), 'fcntl', 'F_ADD_SEALS', `fd ${fd}`);
}
