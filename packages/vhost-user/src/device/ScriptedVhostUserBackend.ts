import { closeFd, UnixSocket } from '@vnic/sys';
import { encodeMessage, encodeU64, encodeVringState, decodeVringState, FrontendReq } from '@vnic/vhost-user-protocol';
import { VHOST_USER_NEED_REPLY_MASK, VHOST_USER_REPLY_MASK } from '@vnic/vhost-user-protocol/vhost_user';
import { MessageFramer } from '../connection/MessageFramer.ts';

/** What a ScriptedVhostUserBackend answers on its `n`th connection (0-based). */
export interface BackendScript {
  /** GET_FEATURES. */
  features(n: number): bigint;
  /** GET_PROTOCOL_FEATURES (0n: the reply still goes out if asked). */
  readonly protocolFeatures: bigint;
  /** GET_QUEUE_NUM. */
  readonly queueNum: number;
  /** GET_VRING_BASE of ring `index` (default 0). */
  vringBase?(index: number): number;
  /** Called for every message before it is answered; returning 'drop' closes the connection instead. */
  onMessage?(session: ScriptedSession, request: string): 'drop' | void;
}

/** One message the backend received: the request's name, its flags, payload and the fds it carried (open until the session closes). */
export interface ScriptedMessage {
  readonly request: string;
  readonly flags: number;
  readonly payload: Uint8Array;
  readonly fds: readonly number[];
}

/** One connection of a ScriptedVhostUserBackend: every message in order, and EOF. */
export class ScriptedSession {
  /** Every message received, in order. */
  readonly messages: ScriptedMessage[] = [];
  /** The connection number (0 for the first). */
  readonly n: number;
  #ended = false;
  readonly #sock: UnixSocket;
  readonly #fds: number[] = [];

  constructor(sock: UnixSocket, n: number) {
    this.#sock = sock;
    this.n = n;
  }

  /** True once the frontend closed the connection (or the backend dropped it). */
  get ended(): boolean {
    return this.#ended;
  }

  /** The names of the requests so far. */
  get requests(): string[] {
    return this.messages.map((m) => m.request);
  }

  /** Every message named `request`. */
  all(request: string): ScriptedMessage[] {
    return this.messages.filter((m) => m.request === request);
  }

  /** Closes the connection (the backend goes away) and the fds it received. */
  drop(): void {
    this.#sock.close();
    this.#ended = true;
    for (const fd of this.#fds.splice(0)) closeFd(fd);
  }

  /** Reads messages until EOF, answering them as `script` says. */
  async serve(script: BackendScript): Promise<void> {
    const framer = new MessageFramer();
    try {
      for (;;) {
        const r = await this.#sock.recvAsync(65536);
        this.#fds.push(...r.fds);
        if (r.data.length === 0) return;
        framer.push(r.data);
        let fds: number[] = r.fds;
        for (let m = framer.next(); m !== undefined; m = framer.next()) {
          if (m.oversized) throw new Error(`oversized ${m.header.request}`);
          const request = FrontendReq[m.header.request] ?? String(m.header.request);
          this.messages.push({ request, flags: m.header.flags, payload: m.payload, fds });
          fds = [];
          if (script.onMessage?.(this, request) === 'drop') {
            this.drop();
            return;
          }
          this.#answer(script, m.header.request, m.header.flags, m.payload);
        }
      }
    } catch {
      // the socket was closed under the pending recv
    } finally {
      this.drop();
    }
  }

  #answer(script: BackendScript, request: number, flags: number, payload: Uint8Array): void {
    let reply: Uint8Array | undefined;
    switch (request as FrontendReq) {
      case FrontendReq.GET_FEATURES:
        reply = encodeU64(script.features(this.n));
        break;
      case FrontendReq.GET_PROTOCOL_FEATURES:
        reply = encodeU64(script.protocolFeatures);
        break;
      case FrontendReq.GET_QUEUE_NUM:
        reply = encodeU64(script.queueNum);
        break;
      case FrontendReq.GET_VRING_BASE: {
        const { index } = decodeVringState(payload);
        reply = encodeVringState({ index, num: script.vringBase?.(index) ?? 0 });
        break;
      }
      default:
        // REPLY_ACK: success.
        if ((flags & VHOST_USER_NEED_REPLY_MASK) !== 0) reply = encodeU64(0);
    }
    if (reply !== undefined) this.#sock.send(encodeMessage(request, reply, VHOST_USER_REPLY_MASK));
  }
}

/**
 * A vhost-user backend played by a script over a real unix socket, for unit specs of the frontend
 * without DPDK: it answers the GET_* requests and REPLY_ACK as `script` says, records every
 * message with its fds, and can go away (drop a connection, stop listening) and come back.
 * It listens on `path` (the device is the client) or connects to it (the device listens).
 */
export class ScriptedVhostUserBackend {
  /** Every connection so far, in order. */
  readonly sessions: ScriptedSession[] = [];
  readonly #path: string;
  readonly #script: BackendScript;
  #listener: UnixSocket | undefined;

  constructor(path: string, script: BackendScript) {
    this.#path = path;
    this.#script = script;
  }

  /** The latest connection. */
  get current(): ScriptedSession | undefined {
    return this.sessions.at(-1);
  }

  /** Starts listening on the path (again) and serves every connection. */
  listen(): this {
    const listener = UnixSocket.listen(this.#path);
    this.#listener = listener;
    void (async () => {
      for (;;) {
        let sock: UnixSocket;
        try {
          sock = await listener.acceptAsync();
        } catch {
          return; // stopped
        }
        this.#start(sock);
      }
    })();
    return this;
  }

  /** Connects to a device listening on the path (server mode) and serves that connection. */
  connect(): ScriptedSession {
    return this.#start(UnixSocket.connect(this.#path));
  }

  /** Stops listening (the socket file goes) and drops every connection: the backend is gone. */
  stop(): void {
    this.#listener?.close();
    this.#listener = undefined;
    for (const s of this.sessions) s.drop();
  }

  #start(sock: UnixSocket): ScriptedSession {
    const s = new ScriptedSession(sock, this.sessions.length);
    this.sessions.push(s);
    void s.serve(this.#script);
    return s;
  }
}
