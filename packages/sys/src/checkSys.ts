import { libc } from './native/libc.ts';
import { SysError } from './SysError.ts';

/**
 * Turns a libc return value into the value, or throws a SysError built from errno when it is
 * negative: `const fd = checkSys(libc.open(path, flags, 0), 'open', undefined, path)`.
 * Call it right after the libc call, before anything else can change errno.
 */
export function checkSys(ret: number, syscall: string, request?: string, target?: string, hint?: string): number {
  if (ret >= 0) return ret;
  const errno = libc.errno();
  throw new SysError({ syscall, errno, request, target, hint });
}
