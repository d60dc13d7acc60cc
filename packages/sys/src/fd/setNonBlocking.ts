import { checkSys } from '../checkSys.ts';
import { F_GETFL, F_SETFL, O_NONBLOCK } from '../linux/fcntl.ts';
import { libc } from '../native/libc.ts';

/** Sets or clears O_NONBLOCK on an fd (F_GETFL + F_SETFL). */
export function setNonBlocking(fd: number, on: boolean): void {
  const flags = checkSys(libc.fcntl(fd, F_GETFL, 0), 'fcntl', 'F_GETFL', `fd ${fd}`);
  const next = on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
  if (next !== flags) checkSys(libc.fcntl(fd, F_SETFL, next), 'fcntl', 'F_SETFL', `fd ${fd}`);
}
