import {
  checkCoalescing,
  coalescingFor,
  encodeVirtioNetConfig,
  errorMessage,
  formatConfigIssues,
  type NetCoalescing,
  type NetNotfCoal,
  type NetRateLimit,
  type QueueStats,
  TypedEmitter,
  VIRTIO_NET_DUPLEX_UNKNOWN,
  VIRTIO_NET_SPEED_UNKNOWN,
  VnicError,
} from '@vnic/core';
import { VIRTIO_NET_S_LINK_UP } from '@vnic/core/virtio_net';
import { VHOST_USER_PROTOCOL_F_BACKEND_REQ, VHOST_USER_PROTOCOL_F_CONFIG } from '@vnic/vhost-user-protocol';
import { openNetTap, SysError, tunOffloadFlags, type Tap, UnixSocket } from '@vnic/sys';
import { IoThreadPool, rateClockMs, SharedCoalescing, SharedRateLimit } from '@vnic/virtio-net';
import { BackendSession } from './BackendSession.ts';
import type { SessionContext } from './SessionContext.ts';
import type { VhostUserDeviceEventMap } from './VhostUserDeviceEventMap.ts';
import { VhostUserDeviceError } from './VhostUserDeviceError.ts';
import type { VhostUserDeviceOptions } from './VhostUserDeviceOptions.ts';
import { validateVhostUserDeviceOptions } from './validateVhostUserDeviceOptions.ts';
import { vhostUserDeviceFeatures } from './vhostUserDeviceFeatures.ts';
import { checkStateFits } from './checkStateFits.ts';
import { VHOST_USER_DEVICE_PROTOCOL_FEATURES } from './VHOST_USER_DEVICE_PROTOCOL_FEATURES.ts';
import type { VhostUserDeviceState } from './VhostUserDeviceState.ts';

const RECONNECT_MIN_MS = 50;
const RECONNECT_MAX_MS = 1000;
/** Default handshakeTimeoutMs. */
const HANDSHAKE_TIMEOUT_MS = 10_000;

/**
 * vnic's virtio-net device served over vhost-user: vnic is the vhost-user BACKEND and a frontend
 * (QEMU, DPDK virtio_user, cloud-hypervisor) drives it over a unix socket. Each queue pair runs
 * @vnic/virtio-net's in-process data plane (an IoThread over the frontend's memory, mapped from
 * the SET_MEM_TABLE fds) between the guest's rings and one queue of a tap. One frontend at a time;
 * when it goes away (or misbehaves: its connection is dropped with a clear error) everything of
 * that connection is torn down and the next one is served. Build with `open()`, then `start()`.
 */
export class VhostUserDeviceServer {
  /** Progress and faults (connected, negotiated, rings-started, disconnected, warning, ...). */
  readonly events = new TypedEmitter<VhostUserDeviceEventMap>();
  /** The socket path. */
  readonly socket: string;
  /** The tap interface the frames go to. */
  readonly tapName: string;
  /** Queue pairs served. */
  readonly queuePairs: number;
  /** What GET_FEATURES answers. */
  readonly features: bigint;
  /** What GET_PROTOCOL_FEATURES answers (VHOST_USER_DEVICE_PROTOCOL_FEATURES, and PROTOCOL_F_CONFIG and BACKEND_REQ with `controlQueue`). */
  readonly protocolFeatures: bigint;
  /** Whole-device mode (VhostUserDeviceOptions.controlQueue). */
  readonly controlQueue: boolean;
  /** The guest's NOTF_COAL state from the current connection's control queue (whole-device mode). */
  #guestCoal: NetNotfCoal | undefined;
  private readonly client: boolean;
  private readonly allowUnsealedMemory: boolean;
  private readonly handshakeTimeoutMs: number;
  private readonly rateLimit: SharedRateLimit;
  private readonly sharedCoal: SharedCoalescing;
  #coalescing: NetCoalescing;
  private serving: Promise<void> | undefined;
  private readonly where: string;
  private readonly tap: Tap;
  private readonly tapOffloads: number;
  private listener: UnixSocket | undefined;
  private session: BackendSession | undefined;
  private lastSession: BackendSession | undefined;
  private loop: Promise<void> | undefined;
  private closing = false;
  private connections = 0;
  private wake: (() => void) | undefined;
  /** The state being taken over, until a frontend has negotiated on a connection that had it. */
  private resume: VhostUserDeviceState | undefined;

  private constructor(options: VhostUserDeviceOptions, tap: Tap, tapOffloads: number) {
    this.socket = options.socket;
    this.client = options.client === true;
    this.allowUnsealedMemory = options.allowUnsealedMemory === true;
    this.handshakeTimeoutMs = options.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS;
    this.queuePairs = options.queuePairs ?? 1;
    this.where = options.name ?? `vhost-user ${options.socket}`;
    this.tap = tap;
    this.tapName = tap.name;
    this.tapOffloads = tapOffloads;
    this.controlQueue = options.controlQueue === true;
    this.features = vhostUserDeviceFeatures(tapOffloads, this.queuePairs, this.controlQueue);
    this.protocolFeatures =
      VHOST_USER_DEVICE_PROTOCOL_FEATURES |
      (this.controlQueue ? (1n << BigInt(VHOST_USER_PROTOCOL_F_CONFIG)) | (1n << BigInt(VHOST_USER_PROTOCOL_F_BACKEND_REQ)) : 0n);
    this.resume = options.state;
    if (this.resume !== undefined) checkStateFits(this.resume, this.features, this.queuePairs, this.where);
    this.rateLimit = new SharedRateLimit(2 * this.queuePairs);
    this.rateLimit.set(options.rateLimit, rateClockMs());
    this.sharedCoal = new SharedCoalescing(2 * this.queuePairs);
    this.#coalescing = checkCoalescing(this.where, options.coalescing ?? {});
    this.publishCoalescing();
    IoThreadPool.retain();
  }

  /**
   * Validates the options, opens (or attaches to) the tap with a 12-byte vnet header, probes its
   * offloads; with `state`, checks that this server can take it over (checkStateFits) and leaves
   * no tap behind when it cannot. Throws a VhostUserDeviceError (`invalid-argument`, `unavailable`
   * without /dev/net/tun or CAP_NET_ADMIN, `tap`).
   */
  static open(options: VhostUserDeviceOptions): VhostUserDeviceServer {
    const issues = validateVhostUserDeviceOptions(options as unknown as Record<string, unknown>);
    if (issues.length > 0) throw new VhostUserDeviceError('invalid-argument', `vhost-user device options: ${formatConfigIssues(issues)}`);
    const where = options.name ?? `vhost-user ${options.socket}`;
    let opened;
    try {
      // The same tap set-up as the in-process and vhost-net backends: by name or handed-in fds,
      // IFF_VNET_HDR with a 12-byte header, offloads probed then cleared, one queue per pair.
      const { tap, tapFds, persistent } = options;
      opened = openNetTap({ nic: where, section: 'vhost-user-device', tap, tapFds, persistent, queues: options.queuePairs ?? 1, nonBlocking: true });
    } catch (e) {
      throw new VhostUserDeviceError(VnicError.is(e) ? e.kind : 'tap', errorMessage(e), { cause: e });
    }
    const tap = opened.tap;
    try {
      // Queue 0 serves until a frontend enables more pairs: the kernel steers to attached queues only.
      for (let k = 1; k < tap.fds.length; k++) tapCall(`${where}: tap ${tap.name}`, `cannot detach queue ${k}`, () => tap.setQueueEnabled(k, false));
      return new VhostUserDeviceServer(options, tap, opened.offloads);
    } catch (e) {
      opened.discard();
      throw e;
    }
  }

  /** Server mode: binds the socket (now, so the path exists when this resolves) and serves connections; client mode: connects (retrying) and serves. */
  start(): void {
    if (this.loop !== undefined) return;
    if (!this.client) {
      try {
        this.listener = UnixSocket.listen(this.socket, 8);
      } catch (e) {
        throw new VhostUserDeviceError('unavailable', `${this.where}: cannot listen: ${errorMessage(e)}`, { cause: e });
      }
      this.events.emit('listening', this.socket);
    }
    this.loop = this.run();
  }

  /** True while a frontend is connected. */
  get connected(): boolean {
    return this.session !== undefined;
  }

  /** Connections served so far. */
  get connectionCount(): number {
    return this.connections;
  }

  /**
   * Changes the rate limits at run time, for the current and later connections (the buckets keep
   * what they earned; see VirtioNetTapDevice.setRateLimit). Throws a VnicError `invalid-argument`
   * for a bad bucket, changing nothing.
   */
  setRateLimit(limit: NetRateLimit | undefined): void {
    this.rateLimit.set(limit, rateClockMs());
  }

  /** The notification coalescing the IO threads run with (options.coalescing, then setCoalescing). */
  get coalescing(): NetCoalescing {
    return this.#coalescing;
  }

  /**
   * Changes the notification coalescing at run time, for the current connection (at once: held
   * notifications become due, the timer is re-armed) and later ones; a direction left out
   * notifies every used buffer. Throws a VnicError `invalid-argument` naming the field, changing nothing.
   */
  setCoalescing(c: NetCoalescing): void {
    this.#coalescing = checkCoalescing(this.where, c);
    this.publishCoalescing();
    this.session?.coalescingChanged();
  }

  /** What each data queue runs with: the VMM's setting for its direction, else the guest's (control queue), else off. */
  private publishCoalescing(): void {
    const c = this.#coalescing;
    const guest = this.#guestCoal;
    this.sharedCoal.publish((vqn) => (guest === undefined ? ((vqn % 2 === 0 ? c.rx : c.tx) ?? { maxPackets: 0, maxUsecs: 0 }) : coalescingFor(guest, c, vqn)));
  }

  /** Counters of the current (or last) connection's data plane, index order rx0, tx0, rx1, ... */
  stats(): QueueStats[] {
    return (this.session ?? this.lastSession)?.stats() ?? [];
  }

  /**
   * Quiesces the data plane of the connected frontend (every IO thread stopped at a consistent
   * point; none starts again on this connection) and returns its device state, for a new server
   * to take over (`VhostUserDeviceOptions.state`): close() this one, open the new one with the
   * state, the frontend reconnects to it. Before any frontend negotiated on a server that is
   * taking over a state, that state is returned as it is. Throws a VhostUserDeviceError
   * `invalid-state` when there is nothing to save (no frontend, or features not negotiated yet).
   */
  async saveState(): Promise<VhostUserDeviceState> {
    const session = this.session;
    if (session === undefined || !session.negotiated) {
      if (this.resume !== undefined) return this.resume;
      if (session === undefined) throw new VhostUserDeviceError('invalid-state', `${this.where}: no device state to save: no frontend is connected`);
    }
    return session.saveState({ socket: this.socket, tap: this.tapName });
  }

  /** Drops the current frontend (if any), stops serving, removes the socket path (server mode) and closes the tap. Idempotent. */
  async close(): Promise<void> {
    if (this.closing) {
      await this.loop;
      return;
    }
    this.closing = true;
    this.listener?.close();
    this.wake?.();
    this.session?.disconnect();
    await this.loop;
    await this.serving;
    try {
      this.tap.close();
    } finally {
      await IoThreadPool.unretain();
    }
  }

  private async run(): Promise<void> {
    let delay = RECONNECT_MIN_MS;
    while (!this.closing) {
      let sock: UnixSocket;
      try {
        sock = this.client ? UnixSocket.connect(this.socket) : await this.listener!.acceptAsync();
      } catch (e) {
        if (this.closing) break;
        if (!this.client) {
          this.events.emit('warning', `${this.where}: accept failed: ${errorMessage(e)}`);
          await this.sleep(delay);
        } else {
          // Nobody listening yet (ENOENT, ECONNREFUSED): try again, backing off to 1 s.
          const quiet = SysError.is(e) && (e.code === 'ENOENT' || e.code === 'ECONNREFUSED');
          if (!quiet) this.events.emit('warning', `${this.where}: connect failed: ${errorMessage(e)}`);
          await this.sleep(delay);
        }
        delay = Math.min(delay * 2, RECONNECT_MAX_MS);
        continue;
      }
      delay = RECONNECT_MIN_MS;
      if (this.closing) {
        sock.close();
        break;
      }
      if (this.session !== undefined) {
        // One frontend owns the device (vhost-user.rst SET_OWNER): a second one is told at once, by
        // closing its connection, instead of waiting unanswered in the listen backlog.
        sock.close();
        const msg = `${this.where}: refused a second frontend: one frontend is served at a time and one is connected`;
        this.events.emit('refused', msg);
        continue;
      }
      this.connections++;
      const session = new BackendSession(this.sessionContext(), sock, this.resume);
      this.session = session;
      this.events.emit('connected');
      const served = this.serveSession(session);
      if (this.client) {
        await served;
      } else {
        this.serving = served; // keep accepting: a second frontend is refused, not left hanging
        continue;
      }
      if (this.client && !this.closing) await this.sleep(RECONNECT_MIN_MS);
    }
  }

  private async serveSession(session: BackendSession): Promise<void> {
    const reason = await session.serve();
    if (session.negotiated) this.resume = undefined; // taken over (or refused by a frontend with other features)
    this.session = undefined;
    this.lastSession = session;
    if (this.#guestCoal !== undefined) {
      this.#guestCoal = undefined; // the next frontend's guest starts uncoalesced
      this.publishCoalescing();
    }
    this.events.emit('disconnected', this.closing ? undefined : reason);
    try {
      this.tap.setOffload(0);
    } catch {
      // the next SET_FEATURES sets it again
    }
  }

  private sessionContext(): SessionContext {
    return {
      where: this.where,
      tap: this.tap,
      tapOffloads: this.tapOffloads,
      queuePairs: this.queuePairs,
      allowUnsealedMemory: this.allowUnsealedMemory,
      features: this.features,
      events: this.events,
      handshakeTimeoutMs: this.handshakeTimeoutMs,
      rateLimit: this.rateLimit,
      coalescing: this.sharedCoal,
      protocolFeatures: this.protocolFeatures,
      controlQueue: this.controlQueue,
      config: encodeVirtioNetConfig({
        mac: new Uint8Array(6),
        status: VIRTIO_NET_S_LINK_UP,
        maxVirtqueuePairs: this.queuePairs,
        mtu: 1500,
        speed: VIRTIO_NET_SPEED_UNKNOWN,
        duplex: VIRTIO_NET_DUPLEX_UNKNOWN,
      }),
      guestCoalescingChanged: (coal) => {
        this.#guestCoal = coal;
        this.publishCoalescing();
        this.session?.coalescingChanged();
      },
      setTapOffloads: (features) =>
        tapCall(`${this.where}: tap ${this.tapName}`, 'cannot set offloads', () => this.tap.setOffload(tunOffloadFlags(features, this.tapOffloads))),
    };
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}

/** Runs a tap operation; any failure becomes a VhostUserDeviceError `tap` naming the tap. */
function tapCall<T>(at: string, what: string, op: () => T): T {
  try {
    return op();
  } catch (e) {
    throw new VhostUserDeviceError('tap', `${at}: ${what}: ${errorMessage(e)}`, { cause: e });
  }
}
