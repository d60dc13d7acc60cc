import { BackendReq, encodeMessage, encodeU64 } from '@vnic/vhost-user-protocol';
import { SysError, UnixSocket, closeFd, setNonBlocking, socketpair, type EpollLoop } from '@vnic/sys';
import {
  VHOST_USER_HDR_SIZE,
  VHOST_USER_MAX_FDS,
  VHOST_USER_MAX_PAYLOAD_SIZE,
  VHOST_USER_NEED_REPLY_MASK,
  VHOST_USER_REPLY_MASK,
  VHOST_USER_VERSION,
  VHOST_USER_VERSION_MASK,
} from '@vnic/vhost-user-protocol/vhost_user';
import { VhostUserError } from '../VhostUserError.ts';
import { MessageFramer } from './MessageFramer.ts';
import { errorMessage } from '@vnic/core';

/** REPLY_ACK status for a request vnic does not handle (any non-zero value means failure). */
const UNSUPPORTED = 1n;

/** What a BackendChannel reports to its device. */
export interface BackendChannelHandlers {
  /** The backend sent CONFIG_CHANGE_MSG. */
  onConfigChange(): void;
  /** The channel ended because the backend broke the protocol (the session itself goes on). */
  onError(err: VhostUserError): void;
}

/**
 * The backend-initiated channel (PROTOCOL_F_BACKEND_REQ): a socketpair whose other end goes to
 * the backend with SET_BACKEND_REQ_FD; the backend sends requests on it. Handled: CONFIG_CHANGE_MSG
 * (reported to the device, acked with 0). Every other request (IOTLB_MSG, VRING_HOST_NOTIFIER_MSG,
 * VRING_CALL, VRING_ERR: features vnic never negotiates) is refused with a non-zero ack when the
 * backend asks for one, so a backend waiting for an answer never hangs. fds received are closed.
 * A malformed message (bad version, oversized size, truncated fds) ends the channel with onError.
 */
export class BackendChannel {
  /** CONFIG_CHANGE_MSG messages received. */
  configChanges = 0;
  /** Requests refused (not handled by vnic). */
  refused = 0;

  readonly #sock: UnixSocket;
  /** The backend's end as a raw fd: closing it must not shutdown() the socket the backend now shares. */
  readonly #theirs: number;
  #theirsOpen = true;
  readonly #fd: number;
  readonly #loop: EpollLoop;
  readonly #path: string;
  readonly #handlers: BackendChannelHandlers;
  readonly #framer = new MessageFramer();
  #closed = false;

  private constructor(sock: UnixSocket, theirs: number, loop: EpollLoop, path: string, handlers: BackendChannelHandlers) {
    this.#sock = sock;
    this.#theirs = theirs;
    this.#fd = sock.fd;
    this.#loop = loop;
    this.#path = path;
    this.#handlers = handlers;
    setNonBlocking(this.#fd, true);
    loop.add(this.#fd, () => this.#onReadable());
  }

  /** Creates the socketpair and starts watching vnic's end on `loop`. `path` names the session in messages. */
  static open(loop: EpollLoop, path: string, handlers: BackendChannelHandlers): BackendChannel {
    const [ours, theirs] = socketpair();
    return new BackendChannel(UnixSocket.fromFd(ours), theirs, loop, path, handlers);
  }

  /** True once closed (close() or a protocol error). */
  get closed(): boolean {
    return this.#closed;
  }

  /** Stops watching and closes vnic's end (and the backend's end if it was not closed yet). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#loop.remove(this.#fd);
    this.#sock.close();
    this.closeBackendFd();
  }

  /** The end to hand to the backend with SET_BACKEND_REQ_FD (then closeBackendFd() here). */
  get backendFd(): number {
    return this.#theirs;
  }

  /** Closes vnic's copy of the backend's end (after SET_BACKEND_REQ_FD sent it). Idempotent. */
  closeBackendFd(): void {
    if (!this.#theirsOpen) return;
    this.#theirsOpen = false;
    closeFd(this.#theirs);
  }

  #onReadable(): void {
    for (let round = 0; round < 64 && !this.#closed; round++) {
      let data: Uint8Array;
      let fds: number[];
      try {
        ({ data, fds } = this.#sock.recv(VHOST_USER_HDR_SIZE + VHOST_USER_MAX_PAYLOAD_SIZE, VHOST_USER_MAX_FDS));
      } catch (err) {
        if (SysError.is(err) && err.code === 'EAGAIN') return;
        this.#fail(`receiving failed: ${errorMessage(err)}`);
        return;
      }
      for (const fd of fds) closeFd(fd);
      if (data.length === 0) {
        this.close(); // the backend closed its end: nothing more will come
        return;
      }
      this.#framer.push(data);
      this.#parse();
    }
  }

  #parse(): void {
    for (let m = this.#framer.next(); m !== undefined && !this.#closed; m = this.#framer.next()) {
      const h = m.header;
      const name = BackendReq[h.request] ?? `request ${h.request}`;
      if (m.oversized) {
        this.#fail(`${name}: the header announces ${h.size} payload bytes; the maximum is ${VHOST_USER_MAX_PAYLOAD_SIZE}`);
        return;
      }
      if ((h.flags & VHOST_USER_VERSION_MASK) !== VHOST_USER_VERSION) {
        this.#fail(`${name}: version ${h.flags & VHOST_USER_VERSION_MASK} in flags 0x${h.flags.toString(16)}, expected ${VHOST_USER_VERSION}`);
        return;
      }
      let status = UNSUPPORTED;
      if ((h.request as BackendReq) === BackendReq.CONFIG_CHANGE_MSG) {
        status = 0n;
        this.configChanges++;
        this.#handlers.onConfigChange();
      } else {
        this.refused++;
      }
      if ((h.flags & VHOST_USER_NEED_REPLY_MASK) !== 0) this.#reply(h.request, status);
    }
  }

  #reply(request: number, status: bigint): void {
    try {
      this.#sock.send(encodeMessage(request, encodeU64(status), VHOST_USER_REPLY_MASK));
    } catch (err) {
      this.#fail(`answering ${BackendReq[request] ?? request} failed: ${errorMessage(err)}`);
    }
  }

  #fail(what: string): void {
    if (this.#closed) return;
    this.close();
    this.#handlers.onError(new VhostUserError('protocol', `vhost-user ${this.#path}: backend channel: ${what}; the channel is closed`));
  }
}
