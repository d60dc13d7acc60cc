import { VnicError } from '@vnic/core';
import { EINTR } from '../linux/errno.ts';
import { MSG_CMSG_CLOEXEC, SCM_MAX_FDS } from '../linux/socket.ts';
import { libc } from '../native/libc.ts';
import { SysError } from '../SysError.ts';
import { MsgHdr } from './MsgHdr.ts';
import type { RecvWithFdsResult } from './recvWithFds.ts';

/**
 * recvWithFds on a libuv pool thread (koffi `.async`), so the main thread can await a message.
 * The pending call holds a pool thread until a message arrives or the socket is shut down
 * (UnixSocket.close does that; the promise then resolves with empty data).
 */
export function recvWithFdsAsync(fd: number, maxLen: number, maxFds: number = SCM_MAX_FDS): Promise<RecvWithFdsResult> {
  MsgHdr.checkRecvArgs(maxLen, maxFds);
  // NATIVE: a msghdr and a data buffer per call, kept alive by the closure until the pool thread returns.
  const msg = new MsgHdr();
  const data = new Uint8Array(maxLen);
  const dataAddr = libc.address(data);
  return new Promise<RecvWithFdsResult>((resolve, reject) => {
    const attempt = (): void => {
      msg.setRecv(dataAddr, maxLen, maxFds);
      libc.recvmsg.async(fd, msg.address, MSG_CMSG_CLOEXEC, (err: unknown, n: number) => {
        if (err !== null && err !== undefined) {
          reject(new VnicError('sys', `recvmsg on fd ${fd} could not run asynchronously`, { cause: err }));
          return;
        }
        if (n < 0) {
          const errno = libc.errno();
          if (errno === EINTR) attempt();
          else reject(new SysError({ syscall: 'recvmsg', errno, target: `fd ${fd}` }));
          return;
        }
        try {
          resolve(msg.takeReceived(fd, maxFds, data, n));
        } catch (e) {
          reject(e instanceof Error ? e : new Error(String(e)));
        }
      });
    };
    attempt();
  });
}
