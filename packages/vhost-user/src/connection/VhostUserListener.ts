import { SysError, UnixSocket, setNonBlocking, type EpollLoop } from '@vnic/sys';
import { VhostUserError } from '../VhostUserError.ts';
import { errorMessage } from '@vnic/core';

/**
 * Server mode: vnic listens on the socket path and the backend connects (as OVS
 * `dpdkvhostuserclient` ports and DPDK `client=1` do). Connections are accepted on the EpollLoop
 * (never blocking the event loop) and handed to `onConnection`, or to a pending accept().
 * close() removes the socket path.
 */
export class VhostUserListener {
  /** The socket path. */
  readonly path: string;
  /** Called with every accepted connection nobody awaits with accept(); the callee owns it. Default: closed at once. */
  onConnection: ((sock: UnixSocket) => void) | undefined;

  readonly #sock: UnixSocket;
  readonly #fd: number;
  readonly #loop: EpollLoop;
  #waiter: ((sock: UnixSocket) => void) | undefined;
  #closed = false;

  private constructor(path: string, sock: UnixSocket, loop: EpollLoop) {
    this.path = path;
    this.#sock = sock;
    this.#fd = sock.fd;
    this.#loop = loop;
    setNonBlocking(this.#fd, true);
    loop.add(this.#fd, () => this.#onReadable());
  }

  /** Binds and listens on `path` (which must not exist), watched on `loop`. */
  static listen(path: string, loop: EpollLoop): VhostUserListener {
    let sock: UnixSocket;
    try {
      sock = UnixSocket.listen(path, 4);
    } catch (err) {
      throw new VhostUserError('unavailable', `vhost-user ${path}: cannot listen (server mode): ${errorMessage(err)}`, { cause: err });
    }
    return new VhostUserListener(path, sock, loop);
  }

  /** Waits up to `timeoutMs` for the backend to connect; rejects with `unavailable` after that. */
  accept(timeoutMs: number): Promise<UnixSocket> {
    if (this.#closed) return Promise.reject(new VhostUserError('invalid-state', `vhost-user ${this.path}: the listener is closed`));
    if (this.#waiter !== undefined) return Promise.reject(new VhostUserError('invalid-state', `vhost-user ${this.path}: accept() is already pending`));
    return new Promise<UnixSocket>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiter = undefined;
        reject(
          new VhostUserError(
            'unavailable',
            `vhost-user ${this.path}: no backend connected within ${timeoutMs} ms (server mode): start the backend as a client of this path (DPDK: --vdev net_vhost0,iface=${this.path},client=1)`,
          ),
        );
      }, timeoutMs);
      this.#waiter = (sock) => {
        clearTimeout(timer);
        resolve(sock);
      };
    });
  }

  /** Stops listening, unlinks the path. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#loop.remove(this.#fd);
    this.#sock.close();
  }

  #onReadable(): void {
    if (this.#closed) return;
    // The listening fd is non-blocking: a spurious wake-up gives EAGAIN, never a blocked thread.
    let sock: UnixSocket;
    try {
      sock = this.#sock.accept();
    } catch (err) {
      if (SysError.is(err) && (err.code === 'EAGAIN' || err.code === 'ECONNABORTED')) return;
      throw err;
    }
    const waiter = this.#waiter;
    this.#waiter = undefined;
    if (waiter !== undefined) waiter(sock);
    else if (this.onConnection !== undefined) this.onConnection(sock);
    else sock.close();
  }
}
