import { EpollLoop, SysError, UnixSocket, closeFd, setNonBlocking } from '@vnic/sys';
import { decodeU64, encodeMessage, requestName, validateReply, type VhostUserHeader } from '@vnic/vhost-user-protocol';
import {
  VHOST_USER_HDR_SIZE,
  VHOST_USER_MAX_FDS,
  VHOST_USER_MAX_PAYLOAD_SIZE,
  VHOST_USER_NEED_REPLY_MASK,
  VHOST_USER_U64_SIZE,
} from '@vnic/vhost-user-protocol/vhost_user';
import { VhostUserError } from '../VhostUserError.ts';
import { MessageFramer } from './MessageFramer.ts';
import type { VhostUserConnectionOptions } from './VhostUserConnectionOptions.ts';
import { errorMessage } from '@vnic/core';

const DEFAULT_REPLY_TIMEOUT_MS = 5000;
const RECV_SIZE = VHOST_USER_HDR_SIZE + VHOST_USER_MAX_PAYLOAD_SIZE;
const EMPTY = new Uint8Array(0);

/**
 * One request to the backend: code, payload, fds, header flags, the reply size (undefined: no
 * reply awaited; a list: any of those sizes) and the expected reply for errors.
 */
type ExchangeArgs = [
  request: number,
  payload: Uint8Array,
  fds: readonly number[],
  flags: number,
  replySize: number | readonly number[] | undefined,
  what: string,
];

interface PendingReply {
  readonly request: number;
  readonly size: number | readonly number[];
  readonly what: string;
  readonly resolve: (payload: Uint8Array) => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/** Options of VhostUserConnection.connect. */
export interface VhostUserConnectOptions extends VhostUserConnectionOptions {
  /** How long to keep retrying while nobody listens on the path (ENOENT, ECONNREFUSED), in ms (default 0: one try). */
  readonly connectTimeoutMs?: number;
}

/**
 * The frontend end of one vhost-user socket: framed messages with fds (SCM_RIGHTS), replies
 * validated against the request (code, REPLY flag, exact size), NEED_REPLY/REPLY_ACK when
 * negotiated, every wait bounded by `replyTimeoutMs`. Requests are pipelined and go out in call
 * order: a request without fds is written at once, without waiting for the replies of earlier
 * ones (the backend handles messages one after another, vhost-user.rst, so replies come back in
 * request order and each is matched to the oldest request waiting for one); a request with fds
 * is written only once every earlier reply is in, so a backend that reads the stream in large
 * chunks finds it at the start of a read, with its fds (the kernel ends a read after the message
 * that carries fds, not before it). Callers that need an answer before the next request await it.
 *
 * The socket is non-blocking and watched on an EpollLoop: it never blocks the event loop and
 * never hangs. Anything unexpected (garbage, a reply to another request, an oversized size field,
 * fds on a reply, EOF mid-message, a timeout) closes the connection with a VhostUserError naming
 * the socket, the request and what was expected: the stream cannot be trusted after that.
 * Received fds are always closed.
 */
export class VhostUserConnection {
  /** The socket path (for messages). */
  readonly path: string;
  /** Set once REPLY_ACK is negotiated: then send() asks for and waits for an ack. */
  replyAck = false;

  readonly #sock: UnixSocket;
  readonly #fd: number;
  readonly #loop: EpollLoop;
  readonly #ownLoop: boolean;
  readonly #replyTimeoutMs: number;
  readonly #onClose: ((reason: Error) => void) | undefined;
  readonly #framer = new MessageFramer();
  /** Requests waiting for their reply, oldest first. */
  readonly #pending: PendingReply[] = [];
  /** Resolved when no reply is awaited any more (or the connection ended). */
  #idleWaiters: (() => void)[] = [];
  /** Settles once the latest request was written (or failed): the next one goes after it. */
  #written: Promise<void> = Promise.resolve();
  #closeReason: Error | undefined;

  private constructor(sock: UnixSocket, path: string, options: VhostUserConnectionOptions) {
    this.path = path;
    this.#sock = sock;
    this.#fd = sock.fd;
    this.#replyTimeoutMs = options.replyTimeoutMs ?? DEFAULT_REPLY_TIMEOUT_MS;
    this.#onClose = options.onClose;
    this.#ownLoop = options.loop === undefined;
    this.#loop = options.loop ?? new EpollLoop();
    setNonBlocking(this.#fd, true);
    this.#loop.add(this.#fd, () => this.#onReadable());
  }

  /** Wraps a connected socket (taking ownership), e.g. one accepted in server mode. */
  static fromSocket(sock: UnixSocket, path: string, options: VhostUserConnectionOptions = {}): VhostUserConnection {
    return new VhostUserConnection(sock, path, options);
  }

  /**
   * Connects to a backend listening on `path` (client mode). While nobody listens (ENOENT,
   * ECONNREFUSED) it retries every 10..200 ms until `connectTimeoutMs`, then rejects with kind
   * `unavailable`; other errors reject at once.
   */
  static async connect(path: string, options: VhostUserConnectOptions = {}): Promise<VhostUserConnection> {
    const deadline = Date.now() + (options.connectTimeoutMs ?? 0);
    let delay = 10;
    for (;;) {
      try {
        return new VhostUserConnection(UnixSocket.connect(path), path, options);
      } catch (err) {
        const retryable = SysError.is(err) && (err.code === 'ENOENT' || err.code === 'ECONNREFUSED');
        if (!retryable) {
          throw new VhostUserError('unavailable', `vhost-user ${path}: cannot connect: ${errorMessage(err)}`, { cause: err });
        }
        const left = deadline - Date.now();
        if (left <= 0) {
          throw new VhostUserError(
            'unavailable',
            `vhost-user ${path}: no backend is listening (${err.code}) after ${options.connectTimeoutMs ?? 0} ms: start the backend (for DPDK: --vdev net_vhost0,iface=${path}) or check the path`,
            { cause: err },
          );
        }
        await sleep(Math.min(delay, left));
        delay = Math.min(delay * 2, 200);
      }
    }
  }

  /** True once the connection ended (close(), EOF, error). */
  get closed(): boolean {
    return this.#closeReason !== undefined;
  }

  /** Why the connection ended, or undefined while it is open. */
  get closeReason(): Error | undefined {
    return this.#closeReason;
  }

  /**
   * Sends a request that has no reply of its own. With REPLY_ACK negotiated (and `ack` not false)
   * it sets NEED_REPLY and waits for the u64 ack: non-zero rejects with `backend-refused`.
   */
  async send(request: number, payload: Uint8Array = EMPTY, fds: readonly number[] = [], ack = true): Promise<void> {
    if (this.replyAck && ack) {
      const reply = await this.#exchange(request, payload, fds, VHOST_USER_NEED_REPLY_MASK, VHOST_USER_U64_SIZE, 'REPLY_ACK u64');
      const status = decodeU64(reply!);
      if (status !== 0n) {
        throw new VhostUserError('backend-refused', `vhost-user ${this.path}: ${requestName(request)}: the backend answered REPLY_ACK ${status} (failure)`);
      }
      return;
    }
    await this.#exchange(request, payload, fds, 0, undefined, '');
  }

  /** Sends a request and resolves with its reply payload, which must be exactly `replySize` bytes. */
  async call(request: number, payload: Uint8Array = EMPTY, replySize: number, what = `${replySize}-byte reply`): Promise<Uint8Array> {
    const reply = await this.#exchange(request, payload, [], 0, replySize, what);
    return reply!;
  }

  /**
   * Sends a request with `fds` attached that the backend answers with a reply of its own (never
   * NEED_REPLY: the reply is the answer), whose payload must be one of `replySizes` bytes, within
   * `replyTimeoutMs` like every wait here. SET_LOG_BASE with LOG_SHMFD: DPDK replies with an
   * empty payload, others with a u64.
   */
  async callWithFds(request: number, payload: Uint8Array, fds: readonly number[], replySizes: readonly number[], what: string): Promise<Uint8Array> {
    const reply = await this.#exchange(request, payload, fds, 0, replySizes, what);
    return reply!;
  }

  /** Closes the socket (a pending request rejects with `disconnected`). onClose is not called. Idempotent. */
  close(): void {
    this.#end(new VhostUserError('disconnected', `vhost-user ${this.path}: connection closed by the frontend`), false);
  }

  /** Writes the request after the earlier ones (a request with fds: after their replies too) and waits for its reply, if it has one. */
  async #exchange(...args: ExchangeArgs): Promise<Uint8Array | undefined> {
    const before = this.#written;
    let written = (): void => {};
    this.#written = new Promise<void>((resolve) => (written = resolve));
    let reply: Promise<Uint8Array> | undefined;
    try {
      await before;
      if (args[2].length > 0 && this.#pending.length > 0) await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
      reply = this.#write(...args);
    } finally {
      written();
    }
    return reply === undefined ? undefined : await reply;
  }

  /** Writes one request now; returns the promise of its reply (undefined: none awaited). */
  #write(...[request, payload, fds, flags, replySize, what]: ExchangeArgs): Promise<Uint8Array> | undefined {
    const name = requestName(request);
    if (this.#closeReason !== undefined) {
      throw new VhostUserError('disconnected', `vhost-user ${this.path}: ${name}: the connection is closed (${this.#closeReason.message})`, {
        cause: this.#closeReason,
      });
    }
    if (fds.length > VHOST_USER_MAX_FDS) {
      throw new VhostUserError('invalid-argument', `vhost-user ${this.path}: ${name}: ${fds.length} fds, at most ${VHOST_USER_MAX_FDS} per message`);
    }
    const msg = encodeMessage(request, payload, flags);
    let reply: Promise<Uint8Array> | undefined;
    if (replySize !== undefined) {
      reply = new Promise<Uint8Array>((resolve, reject) => {
        const ms = this.#replyTimeoutMs;
        const timer = setTimeout(() => {
          this.#end(new VhostUserError('timeout', `vhost-user ${this.path}: ${name}: no reply within ${ms} ms (expected ${what})`), true);
        }, ms);
        this.#pending.push({ request, size: replySize, what, resolve, reject, timer });
      });
    }
    try {
      this.#sock.send(msg, fds);
    } catch (err) {
      const gone = SysError.is(err) && (err.code === 'EPIPE' || err.code === 'ECONNRESET');
      const full = SysError.is(err) && err.code === 'EAGAIN';
      const e = new VhostUserError(
        gone ? 'disconnected' : 'protocol',
        `vhost-user ${this.path}: ${name}: sending failed: ${full ? 'the socket buffer is full (the backend does not read)' : errorMessage(err)}`,
        { cause: err },
      );
      reply?.catch(() => undefined); // #end rejects it with the same error, thrown here
      this.#end(e, true);
      throw e;
    }
    return reply;
  }

  #onReadable(): void {
    for (let round = 0; round < 64 && this.#closeReason === undefined; round++) {
      let data: Uint8Array;
      let fds: number[];
      try {
        ({ data, fds } = this.#sock.recv(RECV_SIZE, VHOST_USER_MAX_FDS));
      } catch (err) {
        if (SysError.is(err) && err.code === 'EAGAIN') return;
        const truncated = SysError.is(err) && err.request === 'MSG_CTRUNC';
        this.#protocolError(
          truncated ? `the backend attached more than ${VHOST_USER_MAX_FDS} fds to a message` : `receiving failed: ${errorMessage(err)}`,
          err,
        );
        return;
      }
      if (fds.length > 0) {
        for (const fd of fds) closeFd(fd);
        this.#protocolError(`the backend attached ${fds.length} fd(s) to a message; vnic expects none on this channel`);
        return;
      }
      if (data.length === 0) {
        this.#onEof();
        return;
      }
      this.#framer.push(data);
      this.#parse();
    }
  }

  #parse(): void {
    for (let m = this.#framer.next(); m !== undefined && this.#closeReason === undefined; m = this.#framer.next()) {
      const h = m.header;
      if (m.oversized) {
        this.#protocolError(
          `a message header announces ${h.size} payload bytes (${requestName(h.request)}, flags 0x${h.flags.toString(16)}); the maximum is ${VHOST_USER_MAX_PAYLOAD_SIZE}`,
        );
        return;
      }
      this.#dispatch(h, m.payload);
    }
  }

  #dispatch(h: VhostUserHeader, payload: Uint8Array): void {
    const p = this.#pending[0];
    if (p === undefined) {
      this.#protocolError(`unsolicited ${requestName(h.request)} message (flags 0x${h.flags.toString(16)}, ${h.size} bytes) while no reply was expected`);
      return;
    }
    const size = typeof p.size === 'number' ? p.size : p.size.includes(h.size) ? h.size : p.size[0]!;
    const problem = validateReply(p.request, h, size);
    if (problem !== undefined) {
      this.#end(new VhostUserError('protocol', `vhost-user ${this.path}: ${problem}`), true);
      return;
    }
    this.#pending.shift();
    clearTimeout(p.timer);
    p.resolve(payload);
    if (this.#pending.length === 0) this.#wakeIdle();
  }

  #wakeIdle(): void {
    for (const w of this.#idleWaiters.splice(0)) w();
  }

  #onEof(): void {
    const p = this.#pending[0];
    const waiting = p === undefined ? '' : ` while ${requestName(p.request)} waited for its reply (${p.what})`;
    const partial = this.#framer.buffered > 0 ? ` in the middle of a message (${this.#framer.buffered} bytes of it received)` : '';
    this.#end(new VhostUserError('disconnected', `vhost-user ${this.path}: the backend closed the connection${partial}${waiting}`), true);
  }

  #protocolError(what: string, cause?: unknown): void {
    const p = this.#pending[0];
    const during = p === undefined ? '' : `${requestName(p.request)} (expected ${p.what}): `;
    this.#end(new VhostUserError('protocol', `vhost-user ${this.path}: ${during}${what}`, cause === undefined ? undefined : { cause }), true);
  }

  #end(reason: Error, notify: boolean): void {
    if (this.#closeReason !== undefined) return;
    this.#closeReason = reason;
    for (const p of this.#pending.splice(0)) {
      clearTimeout(p.timer);
      p.reject(reason);
    }
    this.#wakeIdle(); // a request waiting to be written finds the connection closed
    this.#framer.clear();
    this.#loop.remove(this.#fd);
    this.#sock.close();
    if (this.#ownLoop) void this.#loop.close();
    if (notify) this.#onClose?.(reason);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
