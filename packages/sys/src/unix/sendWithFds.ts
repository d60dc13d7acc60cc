import { VnicError } from '@vnic/core';
import { EINTR } from '../linux/errno.ts';
import { MSG_DONTWAIT, MSG_NOSIGNAL } from '../linux/socket.ts';
import { libc } from '../native/libc.ts';
import { SysError } from '../SysError.ts';
import { MsgHdr } from './MsgHdr.ts';

// NATIVE: one msghdr per thread (module instance), used by synchronous sends only.
const msg = new MsgHdr();

/**
 * Sends all of `data` on a connected AF_UNIX socket, with `fds` (at most 32) attached to the
 * first byte as SCM_RIGHTS. The fds stay owned by the caller (the peer gets duplicates).
 * Blocks until everything is queued (with `dontWait`: a full socket buffer throws EAGAIN instead,
 * so a peer that never reads cannot stall the caller); a peer that closed gives EPIPE (no SIGPIPE).
 */
export function sendWithFds(fd: number, data: Uint8Array, fds: readonly number[] = [], dontWait = false): void {
  if (fds.length > 0 && data.byteLength === 0) throw new VnicError('invalid-argument', 'fds need at least one byte of data to travel with');
  let sent = 0;
  while (sent < data.byteLength || (sent === 0 && data.byteLength === 0)) {
    const rest = sent === 0 ? data : data.subarray(sent);
    // NATIVE: the iovec points at `rest` (kept reachable by this frame) for the duration of the call.
    msg.setSend(libc.address(rest), rest.byteLength, sent === 0 ? fds : []);
    const n = libc.sendmsg(fd, msg.address, MSG_NOSIGNAL | (dontWait ? MSG_DONTWAIT : 0));
    if (n < 0) {
      const errno = libc.errno();
      if (errno === EINTR) continue;
      throw new SysError({ syscall: 'sendmsg', errno, target: `fd ${fd}` });
    }
    if (data.byteLength === 0) return;
    sent += n;
  }
}
