import { checkSys } from '../checkSys.ts';
import { AF_UNIX, SOCK_CLOEXEC, SOCK_STREAM } from '../linux/socket.ts';
import { libc } from '../native/libc.ts';

/** socketpair(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC): two connected fds, both owned by the caller. */
export function socketpair(): [number, number] {
  const sv = new Int32Array(2);
  // NATIVE: the kernel writes the two fds into `sv` during the call.
  checkSys(libc.socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 'socketpair', 'AF_UNIX');
  return [sv[0]!, sv[1]!];
}
