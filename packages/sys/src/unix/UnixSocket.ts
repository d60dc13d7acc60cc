import { unlinkSync } from 'node:fs';
import { VnicError } from '@vnic/core';
import { checkSys } from '../checkSys.ts';
import { closeFd } from '../fd/closeFd.ts';
import { EINTR, EINVAL, ENOENT } from '../linux/errno.ts';
import { AF_UNIX, SCM_MAX_FDS, SHUT_RDWR, SOCK_CLOEXEC, SOCK_STREAM, SOCKADDR_UN_SIZE, UNIX_PATH_MAX } from '../linux/socket.ts';
import { libc } from '../native/libc.ts';
import { SysError } from '../SysError.ts';
import { recvWithFds } from './recvWithFds.ts';
import type { RecvWithFdsResult } from './recvWithFds.ts';
import { recvWithFdsAsync } from './recvWithFdsAsync.ts';
import { sendWithFds } from './sendWithFds.ts';
import { socketpair } from './socketpair.ts';

/** struct sockaddr_un (linux/un.h) for `path`, and the address length to pass with it. */
function sockaddrUn(path: string): [Buffer, number] {
  const bytes = Buffer.byteLength(path, 'utf8');
  if (bytes === 0 || bytes > UNIX_PATH_MAX || path.includes('\0')) {
    throw new VnicError('invalid-argument', `unix socket path '${path}' must be 1..${UNIX_PATH_MAX} bytes without NUL`);
  }
  const addr = Buffer.alloc(SOCKADDR_UN_SIZE);
  addr.writeUInt16LE(AF_UNIX, 0);
  addr.write(path, 2, 'utf8');
  return [addr, 2 + bytes + 1];
}

function newSocket(target: string): number {
  return checkSys(libc.socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), 'socket', 'AF_UNIX', target);
}

/**
 * An AF_UNIX stream socket (SOCK_CLOEXEC) that carries fds with its messages (SCM_RIGHTS): the
 * vhost-user control channel. Owns its fd; a listening socket also removes its path on close().
 */
export class UnixSocket {
  private fdValue: number;
  private readonly boundPath: string | undefined;

  private constructor(fd: number, boundPath?: string) {
    this.fdValue = fd;
    this.boundPath = boundPath;
  }

  /** socket + bind + listen on `path` (which must not exist yet). */
  static listen(path: string, backlog = 16): UnixSocket {
    const [addr, len] = sockaddrUn(path);
    const fd = newSocket(path);
    try {
      // NATIVE: `addr` is read by the kernel during the call only.
      checkSys(libc.bind(fd, addr, len), 'bind', undefined, path);
      checkSys(libc.listen(fd, backlog), 'listen', undefined, path);
    } catch (e) {
      closeFd(fd);
      throw e;
    }
    return new UnixSocket(fd, path);
  }

  /** socket + connect to `path`. */
  static connect(path: string): UnixSocket {
    const [addr, len] = sockaddrUn(path);
    const fd = newSocket(path);
    try {
      for (;;) {
        // NATIVE: `addr` is read by the kernel during the call only.
        if (libc.connect(fd, addr, len) === 0) break;
        const errno = libc.errno();
        if (errno === EINTR) continue;
        throw new SysError({
          syscall: 'connect',
          errno,
          target: path,
          hint: errno === ENOENT ? `socket ${path} not found: start the backend first or check the path` : undefined,
        });
      }
    } catch (e) {
      closeFd(fd);
      throw e;
    }
    return new UnixSocket(fd);
  }

  /** Two connected sockets (socketpair). */
  static pair(): [UnixSocket, UnixSocket] {
    const [a, b] = socketpair();
    return [new UnixSocket(a), new UnixSocket(b)];
  }

  /** Wraps a connected or listening AF_UNIX socket fd; takes ownership. */
  static fromFd(fd: number): UnixSocket {
    if (!Number.isInteger(fd) || fd < 0) throw new VnicError('invalid-argument', `socket fd ${fd} is not a valid fd`);
    return new UnixSocket(fd);
  }

  /** The fd (throws once closed). */
  get fd(): number {
    if (this.fdValue < 0) throw new VnicError('invalid-state', 'unix socket is closed');
    return this.fdValue;
  }

  /** True once close() ran. */
  get closed(): boolean {
    return this.fdValue < 0;
  }

  /** Accepts one connection, blocking this thread. */
  accept(): UnixSocket {
    const fd = this.fd;
    for (;;) {
      const conn = libc.accept4(fd, null, null, SOCK_CLOEXEC);
      if (conn >= 0) return new UnixSocket(conn);
      const errno = libc.errno();
      if (errno !== EINTR) throw new SysError({ syscall: 'accept4', errno, target: this.boundPath ?? `fd ${fd}` });
    }
  }

  /**
   * Accepts one connection on a libuv pool thread, so the main thread can await it.
   * close() wakes it up (it then rejects with an invalid-state VnicError).
   */
  acceptAsync(): Promise<UnixSocket> {
    const fd = this.fd;
    return new Promise<UnixSocket>((resolve, reject) => {
      const attempt = (): void => {
        libc.accept4.async(fd, null, null, SOCK_CLOEXEC, (err: unknown, conn: number) => {
          if (err !== null && err !== undefined) {
            reject(new VnicError('sys', `accept4 on fd ${fd} could not run asynchronously`, { cause: err }));
            return;
          }
          if (conn >= 0) {
            if (this.fdValue === fd) {
              resolve(new UnixSocket(conn));
            } else {
              closeFd(conn);
              reject(new VnicError('invalid-state', `unix socket ${this.boundPath ?? fd} was closed while accepting`));
            }
            return;
          }
          const errno = libc.errno();
          if (errno === EINTR && this.fdValue === fd) attempt();
          else if (this.fdValue !== fd && errno === EINVAL)
            reject(new VnicError('invalid-state', `unix socket ${this.boundPath ?? fd} was closed while accepting`));
          else reject(new SysError({ syscall: 'accept4', errno, target: this.boundPath ?? `fd ${fd}` }));
        });
      };
      attempt();
    });
  }

  /**
   * Sends `data` with `fds` attached (sendWithFds); the fds stay owned by the caller. `dontWait`:
   * throw EAGAIN rather than block when the peer's socket buffer is full.
   */
  send(data: Uint8Array, fds: readonly number[] = [], dontWait = false): void {
    sendWithFds(this.fd, data, fds, dontWait);
  }

  /** Receives one chunk with its fds, blocking this thread (recvWithFds). Empty data: the peer closed. */
  recv(maxLen: number, maxFds: number = SCM_MAX_FDS): RecvWithFdsResult {
    return recvWithFds(this.fd, maxLen, maxFds);
  }

  /** Receives one chunk with its fds on a libuv pool thread (recvWithFdsAsync); close() ends it with empty data. */
  recvAsync(maxLen: number, maxFds: number = SCM_MAX_FDS): Promise<RecvWithFdsResult> {
    return recvWithFdsAsync(this.fd, maxLen, maxFds);
  }

  /**
   * shutdown(SHUT_RDWR) (waking any thread blocked in recv/accept on it), close, and for a
   * listening socket unlink its path. Later calls do nothing.
   */
  close(): void {
    const fd = this.fdValue;
    if (fd < 0) return;
    this.fdValue = -1;
    libc.shutdown(fd, SHUT_RDWR); // ENOTCONN on an unconnected socket is fine
    try {
      closeFd(fd);
    } finally {
      if (this.boundPath !== undefined) {
        try {
          unlinkSync(this.boundPath);
        } catch {
          // already gone
        }
      }
    }
  }
}
