import { EINTR } from '../linux/errno.ts';
import { MSG_CMSG_CLOEXEC, SCM_MAX_FDS } from '../linux/socket.ts';
import { libc } from '../native/libc.ts';
import { SysError } from '../SysError.ts';
import { MsgHdr } from './MsgHdr.ts';

/** What one recvmsg brought: the bytes (empty at end of stream) and the fds (owned by the caller). */
export interface RecvWithFdsResult {
  readonly data: Uint8Array;
  readonly fds: number[];
}

// NATIVE: one msghdr per thread (module instance), used by synchronous receives only.
const msg = new MsgHdr();

/**
 * Receives up to `maxLen` bytes and up to `maxFds` fds (SCM_RIGHTS, MSG_CMSG_CLOEXEC) from an
 * AF_UNIX socket, blocking this thread. More fds than `maxFds` (MSG_CTRUNC): the received ones
 * are closed and a SysError is thrown. Empty `data`: the peer closed the connection.
 */
export function recvWithFds(fd: number, maxLen: number, maxFds: number = SCM_MAX_FDS): RecvWithFdsResult {
  MsgHdr.checkRecvArgs(maxLen, maxFds);
  const data = new Uint8Array(maxLen);
  for (;;) {
    // NATIVE: the iovec points at `data`, alive in this frame for the duration of the call.
    msg.setRecv(libc.address(data), maxLen, maxFds);
    const n = libc.recvmsg(fd, msg.address, MSG_CMSG_CLOEXEC);
    if (n >= 0) return msg.takeReceived(fd, maxFds, data, n);
    const errno = libc.errno();
    if (errno !== EINTR) throw new SysError({ syscall: 'recvmsg', errno, target: `fd ${fd}` });
  }
}
