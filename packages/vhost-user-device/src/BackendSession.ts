import type { QueueStats } from '@vnic/core';
import { closeFd, SysError, type UnixSocket } from '@vnic/sys';
import {
  encodeMessage,
  encodeU64,
  FrontendReq,
  requestName,
  VHOST_USER_NEED_REPLY_MASK,
  VHOST_USER_REPLY_MASK,
  VHOST_USER_VERSION,
  VHOST_USER_VERSION_MASK,
  VhostUserProtocolError,
  type VhostUserHeader,
} from '@vnic/vhost-user-protocol';
import { BackendRequestHandler } from './BackendRequestHandler.ts';
import { readFrontendMessage } from './readFrontendMessage.ts';
import type { SessionContext } from './SessionContext.ts';
import { VhostUserDeviceError } from './VhostUserDeviceError.ts';
import type { VhostUserDeviceState } from './VhostUserDeviceState.ts';

/**
 * One frontend connection (rust-vmm's BackendReqHandler around a VhostUserHandler): reads the
 * messages off the socket one at a time, checks their framing (header version, the REPLY flag,
 * fds only on the requests that carry them), hands each to its BackendRequestHandler, and sends
 * the reply or the REPLY_ACK status. Owns the connection's life cycle: the handshake and
 * partial-message timeouts, disconnect, teardown. Any malformed or out-of-order message ends the
 * session with a VhostUserDeviceError naming the request and the expected shape; the teardown
 * stops every thread, unmaps the memory and closes every fd the frontend sent.
 */
export class BackendSession {
  private readonly ctx: SessionContext;
  private readonly sock: UnixSocket;
  private readonly handler: BackendRequestHandler;
  private owned = false;
  private timedOut: string | undefined;

  /** `resume`: the saved state this connection takes over (see BackendRequestHandler). */
  constructor(ctx: SessionContext, sock: UnixSocket, resume?: VhostUserDeviceState) {
    this.ctx = ctx;
    this.sock = sock;
    this.handler = new BackendRequestHandler(ctx, resume);
  }

  /** True once the frontend acked features on this connection. */
  get negotiated(): boolean {
    return this.handler.negotiated;
  }

  /** Quiesces the data plane and returns the device state (BackendRequestHandler.saveState). */
  saveState(where: { readonly socket: string; readonly tap: string }): Promise<VhostUserDeviceState> {
    return this.handler.saveState(where);
  }

  /** The server published new coalescing parameters: this connection's IO threads apply them now. */
  coalescingChanged(): void {
    this.handler.coalescingChanged();
  }

  /** Per-queue counters of this connection's data plane (index order: rx0, tx0, rx1, ...). */
  stats(): QueueStats[] {
    return this.handler.stats();
  }

  /**
   * Serves messages until the frontend disconnects (resolves undefined) or sends something wrong
   * (resolves with the error); tears everything down either way. Messages are handled one at a
   * time, so no two handlers ever race over the rings or the threads.
   */
  async serve(): Promise<Error | undefined> {
    let reason: Error | undefined;
    const ms = this.ctx.handshakeTimeoutMs;
    const handshake = setTimeout(() => this.timeout(`no SET_OWNER within ${ms} ms of connecting`), ms);
    let partial: ReturnType<typeof setTimeout> | undefined;
    try {
      for (;;) {
        const msg = await readFrontendMessage(this.sock, this.ctx.where, () => {
          partial = setTimeout(() => this.timeout(`a message did not arrive whole within ${ms} ms of its first byte`), ms);
        });
        clearTimeout(partial);
        if (msg === undefined) break;
        await this.dispatch(msg.header, msg.payload, msg.fds);
        if (!this.owned && (msg.header.request as FrontendReq) === FrontendReq.SET_OWNER) {
          this.owned = true;
          clearTimeout(handshake);
        }
      }
    } catch (e) {
      reason = e instanceof Error ? e : new Error(String(e));
    } finally {
      clearTimeout(handshake);
      clearTimeout(partial);
      await this.teardown();
    }
    if (this.timedOut !== undefined) {
      return new VhostUserDeviceError(
        'protocol',
        `${this.ctx.where}: ${this.timedOut}: the frontend is idle or too slow; dropped so that another frontend can be served (handshakeTimeoutMs)`,
      );
    }
    return reason;
  }

  private timeout(what: string): void {
    this.timedOut = what;
    this.sock.close();
  }

  /** Drops the connection: the message loop of serve() ends and tears everything down. Idempotent. */
  disconnect(): void {
    this.sock.close();
  }

  /** Closes the socket, then stops the IO threads, unmaps the memory and closes every fd the frontend sent. */
  private async teardown(): Promise<void> {
    this.sock.close();
    await this.handler.close();
  }

  /** Checks a request's framing, has the handler serve it, sends its reply (or REPLY_ACK status). */
  private async dispatch(h: VhostUserHeader, payload: Uint8Array, fds: number[]): Promise<void> {
    const request = h.request as FrontendReq; // the wire's u32, compared against the codes vnic knows
    const name = requestName(request);
    const at = `${this.ctx.where}: ${name}`;
    // Read after the request ran: a SET_PROTOCOL_FEATURES that acks REPLY_ACK with NEED_REPLY set is
    // answered too (virtio_uml waits for it; rust-vmm's backend does the same).
    const needReply = (h.flags & VHOST_USER_NEED_REPLY_MASK) !== 0;
    let reply: Uint8Array | undefined;
    try {
      if ((h.flags & VHOST_USER_VERSION_MASK) !== VHOST_USER_VERSION) {
        throw new VhostUserDeviceError(
          'protocol',
          `${at}: header flags 0x${h.flags.toString(16)} carry version ${h.flags & VHOST_USER_VERSION_MASK}; expected ${VHOST_USER_VERSION}`,
        );
      }
      if ((h.flags & VHOST_USER_REPLY_MASK) !== 0)
        throw new VhostUserDeviceError('protocol', `${at}: a frontend request has the REPLY flag set (flags 0x${h.flags.toString(16)})`);
      const takesFd =
        request === FrontendReq.SET_MEM_TABLE ||
        request === FrontendReq.SET_LOG_BASE ||
        request === FrontendReq.SET_VRING_KICK ||
        request === FrontendReq.SET_VRING_CALL ||
        request === FrontendReq.SET_VRING_ERR ||
        request === FrontendReq.SET_BACKEND_REQ_FD;
      if (!takesFd && fds.length > 0) throw new VhostUserDeviceError('protocol', `${at}: ${fds.length} fd(s) attached; this request carries none`);
      reply = await this.handler.handle(request, payload, fds.splice(0), at);
    } catch (e) {
      for (const fd of fds) closeFd(fd);
      if (needReply && this.handler.replyAck) this.trySend(encodeMessage(request, encodeU64(1n), VHOST_USER_REPLY_MASK));
      throw VhostUserProtocolError.is(e) ? new VhostUserDeviceError('protocol', `${at}: ${e.message}`, { cause: e }) : e;
    }
    if (reply !== undefined) this.send(encodeMessage(request, reply, VHOST_USER_REPLY_MASK), at);
    else if (needReply && this.handler.replyAck) this.send(encodeMessage(request, encodeU64(0n), VHOST_USER_REPLY_MASK), at);
  }

  /** Sends a reply without ever blocking the main thread: a frontend that does not read its replies is dropped. */
  private send(msg: Uint8Array, at: string): void {
    try {
      this.sock.send(msg, [], true);
    } catch (e) {
      const full = SysError.is(e) && e.code === 'EAGAIN';
      throw new VhostUserDeviceError(
        'protocol',
        `${at}: sending the reply failed: ${full ? 'the socket buffer is full: the frontend does not read its replies' : e instanceof Error ? e.message : String(e)}`,
        { cause: e },
      );
    }
  }

  private trySend(msg: Uint8Array): void {
    try {
      this.sock.send(msg, [], true);
    } catch {
      // the connection is going away anyway
    }
  }
}
