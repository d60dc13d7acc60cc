import { checkSys } from '../checkSys.ts';
import { AF_UNIX, SOCK_CLOEXEC, SOCK_DGRAM, SOCK_NONBLOCK, SOCK_STREAM } from '../linux/socket.ts';
import { libc } from '../native/libc.ts';

/** Options of socketpair. */
export interface SocketpairOptions {
  /** 'stream' (default: SOCK_STREAM) or 'dgram' (SOCK_DGRAM: message boundaries kept, one frame per datagram). */
  readonly type?: 'stream' | 'dgram';
  /** Both fds O_NONBLOCK (default false). */
  readonly nonBlocking?: boolean;
}

/** socketpair(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC) (or SOCK_DGRAM, non-blocking): two connected fds, both owned by the caller. */
export function socketpair(options: SocketpairOptions = {}): [number, number] {
  const sv = new Int32Array(2);
  const type = (options.type === 'dgram' ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC | (options.nonBlocking === true ? SOCK_NONBLOCK : 0);
  // NATIVE: the kernel writes the two fds into `sv` during the call.
  checkSys(libc.socketpair(AF_UNIX, type, 0, sv), 'socketpair', options.type === 'dgram' ? 'AF_UNIX SOCK_DGRAM' : 'AF_UNIX');
  return [sv[0]!, sv[1]!];
}
