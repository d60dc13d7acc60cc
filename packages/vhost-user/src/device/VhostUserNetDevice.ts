import {
  errorMessage,
  NetDeviceBase,
  SerialQueue,
  VIRTIO_CONFIG_S_ACKNOWLEDGE,
  VIRTIO_CONFIG_S_DRIVER,
  VIRTIO_CONFIG_S_DRIVER_OK,
  VIRTIO_CONFIG_S_FEATURES_OK,
  featureBit,
  hasFeature,
  virtio_net,
  type ActivateContext,
  type GuestMemoryLayout,
  type PrepareContext,
  type DirtyLog,
  type GuestMemory,
  type NetDeviceConfig,
  type QueueContext,
  type QueueHost,
  type VhostVringAddr,
  type QueueState,
  programVhostVrings,
  stopVhostVrings,
  usedIndex,
  vringUserAddr,
  vhostBackendMask,
  WarningCoalescer,
} from '@vnic/core';
import { epollQueueHost, guestMemoryFromLayout, leaseEventLoop, type EpollLoop, type EventLoopLease, type UnixSocket } from '@vnic/sys';
import { BackendChannel } from '../connection/BackendChannel.ts';
import { backendChannelHandlers } from './backendChannelHandlers.ts';
import { VhostUserConnection } from '../connection/VhostUserConnection.ts';
import { VhostUserListener } from '../connection/VhostUserListener.ts';
import { VhostUserFrontend } from '../frontend/VhostUserFrontend.ts';
import {
  VHOST_F_LOG_ALL,
  VHOST_USER_F_PROTOCOL_FEATURES,
  VHOST_USER_PROTOCOL_F_BACKEND_REQ,
  VHOST_USER_PROTOCOL_F_LOG_SHMFD,
  VHOST_USER_PROTOCOL_F_STATUS,
  VHOST_VRING_F_LOG,
} from '@vnic/vhost-user-protocol/vhost_user';
import { VhostUserError } from '../VhostUserError.ts';
import type { BackendHandshake } from './BackendHandshake.ts';
import { negotiateBackend } from './negotiateBackend.ts';
import { SocketWatch } from './SocketWatch.ts';
import { VHOST_USER_NET_BACKEND_FEATURES } from './VHOST_USER_NET_BACKEND_FEATURES.ts';
import type { VhostUserOptions } from './VhostUserOptions.ts';

const RECONNECT_MIN_MS = 10;
const RECONNECT_MAX_MS = 1000;
/** Retry period right after the socket path changed (bound, maybe not listening yet). */
const FAST_RETRY_MS = 2;
/** How long after the socket path changed the fast retries go on before the backoff resumes. */
const FAST_RETRY_WINDOW_MS = 3000;
const STATUS_FEATURES_OK = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK;

/**
 * A virtio-net device whose data plane is a vhost-user backend in another process (DPDK testpmd,
 * OVS-DPDK, ...). vnic keeps features, config space, link and the control queue (the device core
 * serves it on the main thread, for every backend); the data queues are handed to the backend
 * over the socket by core's vring programmer: SET_FEATURES, SET_MEM_TABLE (memfds by SCM_RIGHTS),
 * per ring SET_VRING_NUM/BASE/ADDR/KICK/CALL, then SET_VRING_ENABLE for the active pairs,
 * SET_STATUS when negotiated.
 *
 * When the backend goes away the link goes down (config interrupt) and, with `reconnect`, vnic
 * reconnects (client) or accepts again (server) with capped exponential backoff, replays the
 * handshake, memory table and rings (each ring restarted from the used index in guest memory, as
 * QEMU does) and brings the link up: the guest needs no reset.
 */
export class VhostUserNetDevice extends NetDeviceBase {
  /** The validated backend options. */
  readonly options: VhostUserOptions;

  readonly #loop: EpollLoop;
  readonly #loopLease: EventLoopLease;
  readonly #listener: VhostUserListener | undefined;
  #frontend: VhostUserFrontend | undefined;
  #channel: BackendChannel | undefined;
  #backendConfigChanges = 0;
  /** Backend-channel warnings, coalesced: a flooding backend costs a few events a second. */
  readonly #warnings = new WarningCoalescer({ emit: (m) => this.events.emit('warning', m) });
  #handshake: BackendHandshake;
  #ctx: ActivateContext | undefined;
  #mem: GuestMemory | undefined;
  /** Bumped per activation and reset: a deferred control-queue signal of an older one is dropped. */
  #generation = 0;
  #activePairs = 1;
  readonly #ops = new SerialQueue();
  #reconnecting = false;
  /** The dirty log the backend marks into (setDataPlaneDirtyLog), replayed on every ring start and reconnection. */
  #log: DirtyLog | undefined;
  /** What prepareRestore() already sent on `frontend` (the next ring start skips it when it matches). */
  #prepared: { readonly frontend: VhostUserFrontend; readonly memory: GuestMemoryLayout; readonly features: bigint } | undefined;
  #shutdown = false;
  #connects = 0;

  private constructor(
    config: NetDeviceConfig,
    options: VhostUserOptions,
    lease: EventLoopLease,
    listener: VhostUserListener | undefined,
    frontend: VhostUserFrontend,
    hs: BackendHandshake,
  ) {
    super(config, VhostUserNetDevice.backendMask(hs, config.queuePairs));
    this.options = options;
    this.#loopLease = lease;
    this.#loop = lease.loop;
    this.#listener = listener;
    this.#frontend = frontend;
    this.#handshake = hs;
    this.#connects = 1;
    if (listener !== undefined) listener.onConnection = (sock) => this.#onServerConnection(sock);
  }

  /**
   * Connects to (client) or waits for (server) the backend within `connectTimeoutMs`, runs the
   * handshake, and builds the device offering what the backend supports. Rejects with kind
   * `unavailable` when no backend is there, `unsupported` when it lacks what the config needs.
   */
  static async create(config: NetDeviceConfig, options: VhostUserOptions, services: { readonly loop?: EpollLoop } = {}): Promise<VhostUserNetDevice> {
    let device: VhostUserNetDevice | undefined;
    const lease = leaseEventLoop(services.loop);
    const loop = lease.loop;
    let listener: VhostUserListener | undefined;
    let conn: VhostUserConnection | undefined;
    const connOptions = {
      loop,
      replyTimeoutMs: options.replyTimeoutMs,
      onClose: (reason: Error) => {
        if (device !== undefined) device.#onConnectionLost(conn, reason);
      },
    };
    try {
      if (options.mode === 'server') {
        listener = VhostUserListener.listen(options.socket, loop);
        conn = VhostUserConnection.fromSocket(await listener.accept(options.connectTimeoutMs), options.socket, connOptions);
      } else {
        conn = await VhostUserConnection.connect(options.socket, { ...connOptions, connectTimeoutMs: options.connectTimeoutMs });
      }
      const frontend = new VhostUserFrontend(conn);
      const hs = await negotiateBackend(frontend, config.queuePairs);
      device = new VhostUserNetDevice(config, options, lease, listener, frontend, hs);
      await device.#openBackendChannel(frontend);
      if (conn.closed) device.#onConnectionLost(conn, conn.closeReason ?? new Error('closed'));
      return device;
    } catch (err) {
      conn?.close();
      listener?.close();
      await lease.release();
      throw err;
    }
  }

  /**
   * The backend mask handed to NetDeviceBase: the backend's offer for the features its data plane
   * decides (VHOST_USER_NET_BACKEND_FEATURES), everything else (vnic's own) untouched; MQ only
   * when the backend has enough queue pairs.
   */
  static backendMask(hs: BackendHandshake, queuePairs: number): bigint {
    let mask = vhostBackendMask(hs.features, VHOST_USER_NET_BACKEND_FEATURES);
    if (queuePairs < 2 || hs.queueNum < queuePairs) mask &= ~featureBit(virtio_net.VIRTIO_NET_F_MQ);
    return mask;
  }

  /** True while a backend connection is up. */
  get connected(): boolean {
    return this.#frontend !== undefined;
  }

  /** Backend connections made so far (1 at creation, +1 per reconnection). */
  get connections(): number {
    return this.#connects;
  }

  /** CONFIG_CHANGE_MSG messages the backend sent on the backend channel (vnic keeps config space itself). */
  get backendConfigChanges(): number {
    return this.#backendConfigChanges;
  }

  /** True while the backend-initiated channel (PROTOCOL_F_BACKEND_REQ) is open. */
  get backendChannelOpen(): boolean {
    return this.#channel !== undefined && !this.#channel.closed;
  }

  /** What the last handshake learned (backend features, protocol features, queue count). */
  get handshake(): BackendHandshake {
    return this.#handshake;
  }

  /**
   * The control queue's kick is watched on this device's loop. Its acks are signalled once the
   * backend applied what the command changed (SET_VRING_ENABLE): the signal waits for the
   * backend operations queued before it. Data queues report zeros (the backend counts them).
   */
  protected override queueHost(): QueueHost {
    const host = epollQueueHost(this.#loop);
    return {
      ...host,
      signal: (fd) => {
        const gen = this.#generation;
        void this.#ops.idle().then(() => {
          if (this.#generation === gen) host.signal(fd);
        });
      },
    };
  }

  protected override activateDataPlane(ctx: ActivateContext): Promise<void> {
    return this.#exclusive(async () => {
      const mem = guestMemoryFromLayout(ctx.memory);
      this.#activePairs = this.ctrlState.activePairs; // 1 unless restored or resumed
      this.#generation++;
      this.#ctx = ctx;
      this.#mem = mem;
      const f = this.#frontend;
      if (f === undefined) {
        if (this.options.reconnect) return; // rings start when the backend is back
        this.#ctx = undefined;
        this.#mem = undefined;
        throw new VhostUserError('disconnected', `${this.id}: vhost-user backend ${this.options.socket} is gone and reconnect is off`);
      }
      try {
        await this.#startRings(f, ctx, mem, false);
      } catch (err) {
        if (this.options.reconnect && VhostUserError.is(err) && (err.kind === 'disconnected' || err.kind === 'timeout')) {
          return; // the connection died: the reconnection replays the rings
        }
        this.#ctx = undefined;
        this.#mem = undefined;
        throw err;
      }
    });
  }

  protected override resetDataPlane(): Promise<QueueState[]> {
    return this.#exclusive(async () => {
      const ctx = this.#ctx;
      const mem = this.#mem;
      this.#generation++;
      this.#ctx = undefined;
      this.#mem = undefined;
      if (ctx === undefined || mem === undefined) return [];
      let f = this.#frontend;
      if (f !== undefined && hasFeature(this.#handshake.features, VHOST_USER_F_PROTOCOL_FEATURES)) {
        try {
          // TX rings (odd) first: the backend stops taking the guest's frames before it stops
          // delivering, so a frame it took in between is not dropped for want of an RX ring.
          // Pipelined: written in this order, one round trip for all.
          const rings = [...ctx.queues].sort((x, y) => (y.index & 1) - (x.index & 1));
          await Promise.all(rings.map((q) => f!.setVringEnable(q.index, false)));
        } catch (err) {
          this.#warnStop(err);
          f = undefined;
        }
      }
      const states = await stopVhostVrings(f, mem, ctx.queues, (_q, err) => this.#warnStop(err), ctx.features);
      if (f !== undefined && this.#hasStatus()) await f.setStatus(0).catch((err: unknown) => this.#warnStop(err));
      return states;
    });
  }

  #warnStop(err: unknown): void {
    this.events.emit('warning', `${this.id}: stopping the vhost-user rings failed, resuming from the used index: ${errorMessage(err)}`);
  }

  protected override async closeBackend(): Promise<void> {
    this.#shutdown = true;
    await this.#ops.idle();
    this.#listener?.close();
    this.#channel?.close();
    this.#channel = undefined;
    this.#warnings.dispose();
    const f = this.#frontend;
    this.#frontend = undefined;
    f?.connection.close();
    await this.#loopLease.release();
  }

  protected override onActivePairsChanged(pairs: number): boolean {
    this.#activePairs = pairs;
    const ctx = this.#ctx;
    if (ctx === undefined || !hasFeature(this.#handshake.features, VHOST_USER_F_PROTOCOL_FEATURES)) return true;
    void this.#exclusive(async () => {
      const f = this.#frontend;
      if (f === undefined || this.#ctx !== ctx) return; // a reconnection applies #activePairs
      for (const q of ctx.queues) {
        await f.setVringEnable(q.index, q.index >> 1 < pairs);
      }
    }).catch((err: unknown) => this.events.emit('warning', `${this.id}: SET_VRING_ENABLE for ${pairs} pair(s) failed: ${errorMessage(err)}`));
    return true;
  }

  // ---- rings ----------------------------------------------------------------------------------

  /** Hands every data ring to the backend; `fromUsed`: restart each ring at the used idx in guest memory (reconnection). */
  async #startRings(f: VhostUserFrontend, ctx: ActivateContext, mem: GuestMemory, fromUsed: boolean): Promise<void> {
    const hs = this.#handshake;
    const protocol = hasFeature(hs.features, VHOST_USER_F_PROTOCOL_FEATURES);
    const log = this.#log;
    if (log !== undefined) await this.#setLogBase(f, log); // first: the backend checks the memory table and used rings against it
    const features = this.#ringFeatures(ctx, log !== undefined);
    const p = this.#prepared;
    this.#prepared = undefined;
    await programVhostVrings(f, ctx, {
      features,
      prepared: p !== undefined && p.frontend === f && p.memory === ctx.memory && p.features === features && log === undefined,
      ringAddr: (q) => this.#ringAddr(ctx, q, log !== undefined),
      ...(fromUsed ? { base: (q: QueueContext) => usedIndex(mem, q) } : {}),
      afterFeatures: async () => {
        if (this.#hasStatus()) await f.setStatus(STATUS_FEATURES_OK);
      },
    });
    if (protocol) await Promise.all(ctx.queues.map((q) => f.setVringEnable(q.index, q.index >> 1 < this.#activePairs))); // pipelined, in order
    if (this.#hasStatus()) await f.setStatus(STATUS_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
  }

  /**
   * Before a restore onto this device (a live backend switch): SET_FEATURES (the acked ring
   * features), SET_STATUS FEATURES_OK and SET_MEM_TABLE now, while the old data plane still runs
   * (a backend maps the memory table: the slowest step of a ring start), so the restore sends only
   * the per-ring messages. A no-op while rings run, logging is on or no backend is connected.
   */
  prepareRestore(ctx: PrepareContext): Promise<void> {
    return this.#exclusive(async () => {
      const f = this.#frontend;
      if (f === undefined || this.#ctx !== undefined || this.#log !== undefined) return;
      const features = this.#ringFeatures(ctx, false);
      await f.setFeatures(features);
      if (this.#hasStatus()) await f.setStatus(STATUS_FEATURES_OK);
      await f.setMemTable(ctx.memory);
      this.#prepared = { frontend: f, memory: ctx.memory, features };
    });
  }

  /** SET_FEATURES value: the acked ring features, PROTOCOL_FEATURES when negotiated, VHOST_F_LOG_ALL while logging. */
  #ringFeatures(ctx: { readonly features: bigint }, logging: boolean): bigint {
    const protocol = hasFeature(this.#handshake.features, VHOST_USER_F_PROTOCOL_FEATURES);
    return (
      (ctx.features & VHOST_USER_NET_BACKEND_FEATURES) |
      (protocol ? featureBit(VHOST_USER_F_PROTOCOL_FEATURES) : 0n) |
      (logging ? featureBit(VHOST_F_LOG_ALL) : 0n)
    );
  }

  /** SET_VRING_ADDR of ring `q`: with VHOST_VRING_F_LOG and its used ring's guest-physical address as log_guest_addr while logging. */
  #ringAddr(ctx: ActivateContext, q: QueueContext, logging: boolean): VhostVringAddr {
    const a = vringUserAddr(ctx.memory, q);
    return logging
      ? { ...a, flags: a.flags | (1 << VHOST_VRING_F_LOG), logGuestAddr: BigInt(q.usedRing) }
      : { ...a, flags: a.flags & ~(1 << VHOST_VRING_F_LOG) };
  }

  /** Why this backend cannot log (no VHOST_F_LOG_ALL or no PROTOCOL_F_LOG_SHMFD), or undefined. */
  #cannotLog(): string | undefined {
    const hs = this.#handshake;
    if (!hasFeature(hs.protocolFeatures, VHOST_USER_PROTOCOL_F_LOG_SHMFD))
      return `cannot migrate: backend ${this.options.socket} lacks VHOST_USER_PROTOCOL_F_LOG_SHMFD (offered protocol features: 0x${hs.protocolFeatures.toString(16)} acked); its dirty log must be shared memory`;
    if (!hasFeature(hs.features, VHOST_F_LOG_ALL))
      return `cannot migrate: backend ${this.options.socket} lacks VHOST_F_LOG_ALL (features 0x${hs.features.toString(16)}): it cannot log the pages it writes`;
    return undefined;
  }

  async #setLogBase(f: VhostUserFrontend, log: DirtyLog): Promise<void> {
    await f.setLogBase({ fd: this.#logFd(log), size: log.bytes.length, offset: log.fdOffset });
  }

  #logFd(log: DirtyLog): number {
    if (log.fd === undefined)
      throw new VhostUserError(
        'invalid-argument',
        `${this.id}: the dirty log has no memfd: a vhost-user backend maps the log itself, so give the device a memfd log (@vnic/sys MemfdDirtyLog)`,
      );
    return log.fd;
  }

  /**
   * Starts (log) or stops (undefined) the backend's dirty logging, QEMU's order: SET_LOG_BASE with
   * the log's memfd, SET_FEATURES with VHOST_F_LOG_ALL, SET_VRING_ADDR with VHOST_VRING_F_LOG per
   * ring; stopping clears both again. Every message waits at most replyTimeoutMs (REPLY_ACK when
   * negotiated), so a backend that hangs fails the call, never the VMM. Without a running
   * activation or connection the log is only kept: the next ring start hands it over. A backend
   * lost while logging stops is not an error (it writes nothing any more).
   */
  protected override setDataPlaneDirtyLog(log: DirtyLog | undefined): Promise<void> {
    return this.#exclusive(async () => {
      if (log !== undefined) {
        const why = this.#cannotLog();
        if (why !== undefined) throw new VhostUserError('unsupported', `${this.id}: ${why}`);
        this.#logFd(log);
      }
      const f = this.#frontend;
      const ctx = this.#ctx;
      if (log === undefined) this.#log = undefined;
      if (f !== undefined && ctx !== undefined) {
        try {
          if (log !== undefined) await this.#setLogBase(f, log);
          await f.setFeatures(this.#ringFeatures(ctx, log !== undefined));
          for (const q of ctx.queues) await f.setVringAddr(q.index, this.#ringAddr(ctx, q, log !== undefined));
        } catch (err) {
          if (log === undefined && VhostUserError.is(err) && (err.kind === 'disconnected' || err.kind === 'timeout')) return;
          throw err;
        }
      }
      this.#log = log;
    });
  }

  #hasStatus(): boolean {
    return hasFeature(this.#handshake.protocolFeatures, VHOST_USER_PROTOCOL_F_STATUS);
  }

  // ---- connection loss and reconnection --------------------------------------------------------

  #onConnectionLost(conn: VhostUserConnection | undefined, reason: Error): void {
    if (this.#shutdown || this.#frontend === undefined || this.#frontend.connection !== conn) return;
    this.#frontend = undefined;
    this.#channel?.close();
    this.#channel = undefined;
    this.events.emit('warning', `${this.id}: vhost-user backend lost: ${reason.message}`);
    this.setLinkUp(false);
    if (!this.options.reconnect) {
      if (this.#ctx !== undefined)
        this.events.emit('needs-reset', `${this.id}: vhost-user backend ${this.options.socket} went away (reconnect is off)`, undefined);
      return;
    }
    if (this.options.mode === 'client') void this.#reconnectClient();
    // Server mode: the listener's next connection (#onServerConnection) restores the session.
  }

  /**
   * Client mode: connect again until the backend is back. Besides the capped backoff timer, the
   * socket's directory is watched (inotify through fs.watch): when the backend re-creates its
   * socket the next attempt starts at once, then every FAST_RETRY_MS for FAST_RETRY_WINDOW_MS (a
   * backend binds its socket well before it listens: DPDK finishes its EAL init in between), so
   * a restarted backend is reconnected within milliseconds of listening, not a backoff period.
   */
  async #reconnectClient(): Promise<void> {
    if (this.#reconnecting) return;
    this.#reconnecting = true;
    const appeared = new SocketWatch(this.options.socket);
    let delay = RECONNECT_MIN_MS;
    let fastUntil = 0;
    try {
      while (!this.#shutdown && this.#frontend === undefined) {
        let conn: VhostUserConnection | undefined;
        try {
          conn = await VhostUserConnection.connect(
            this.options.socket,
            this.#connOptions(() => conn),
          );
          await this.#restore(conn);
          return;
        } catch (err) {
          conn?.close();
          if (VhostUserError.is(err) && err.kind !== 'unavailable') {
            this.events.emit('warning', `${this.id}: vhost-user reconnection failed: ${err.message}`);
          }
        }
        if (await appeared.wait(delay)) fastUntil = Date.now() + FAST_RETRY_WINDOW_MS;
        delay = Date.now() < fastUntil ? FAST_RETRY_MS : Math.min(delay * 2, RECONNECT_MAX_MS);
      }
    } finally {
      appeared.close();
      this.#reconnecting = false;
    }
  }

  #onServerConnection(sock: UnixSocket): void {
    if (this.#shutdown || this.#frontend !== undefined || this.#reconnecting || !this.options.reconnect) {
      sock.close();
      return;
    }
    this.#reconnecting = true;
    let conn: VhostUserConnection | undefined;
    void (async () => {
      try {
        conn = VhostUserConnection.fromSocket(
          sock,
          this.options.socket,
          this.#connOptions(() => conn),
        );
        await this.#restore(conn);
      } catch (err) {
        conn?.close();
        this.events.emit('warning', `${this.id}: vhost-user backend reconnection failed: ${errorMessage(err)}`);
      } finally {
        this.#reconnecting = false;
      }
    })();
  }

  #connOptions(current: () => VhostUserConnection | undefined): { loop: EpollLoop; replyTimeoutMs: number; onClose: (reason: Error) => void } {
    return { loop: this.#loop, replyTimeoutMs: this.options.replyTimeoutMs, onClose: (reason) => this.#onConnectionLost(current(), reason) };
  }

  /** Handshake again, check the backend still supports what was offered/acked, replay the rings, link up. */
  async #restore(conn: VhostUserConnection): Promise<void> {
    const f = new VhostUserFrontend(conn);
    const hs = await negotiateBackend(f, this.queuePairs);
    const needed = (this.#ctx?.features ?? this.deviceFeatures) & VHOST_USER_NET_BACKEND_FEATURES;
    const missing = needed & ~hs.features;
    if (missing !== 0n) {
      if (this.#ctx !== undefined)
        this.events.emit('needs-reset', `${this.id}: the reconnected vhost-user backend lacks features 0x${missing.toString(16)} the guest acked`, undefined);
      throw new VhostUserError('unsupported', `${this.id}: the reconnected backend lacks features 0x${missing.toString(16)}`);
    }
    await this.#exclusive(async () => {
      if (this.#shutdown) throw new VhostUserError('invalid-state', `${this.id}: closed during reconnection`);
      this.#handshake = hs;
      try {
        await this.#openBackendChannel(f);
        const ctx = this.#ctx;
        const mem = this.#mem;
        if (ctx !== undefined && mem !== undefined) await this.#startRings(f, ctx, mem, true);
        if (conn.closed) throw conn.closeReason ?? new VhostUserError('disconnected', 'closed');
      } catch (err) {
        this.#channel?.close(); // this attempt's channel dies with its connection
        this.#channel = undefined;
        throw err;
      }
      this.#frontend = f;
      this.#connects++;
    });
    this.setLinkUp(true);
  }

  /**
   * With PROTOCOL_F_BACKEND_REQ: opens the backend-initiated channel and hands the backend its end
   * (SET_BACKEND_REQ_FD). CONFIG_CHANGE_MSG is acked and counted: vnic keeps the NIC's config
   * space (MAC, status, MTU) itself, so nothing the guest sees changes; other requests are refused.
   */
  async #openBackendChannel(f: VhostUserFrontend): Promise<void> {
    this.#channel?.close();
    this.#channel = undefined;
    if (!hasFeature(this.#handshake.protocolFeatures, VHOST_USER_PROTOCOL_F_BACKEND_REQ)) return;
    const channel = BackendChannel.open(
      this.#loop,
      this.options.socket,
      backendChannelHandlers(this.id, this.#warnings, () => this.#backendConfigChanges++),
    );
    try {
      await f.setBackendReqFd(channel.backendFd);
    } catch (err) {
      channel.close();
      throw err;
    } finally {
      channel.closeBackendFd();
    }
    this.#channel = channel;
  }

  /** Runs backend operations one at a time (activation, reset, ring enables, reconnection replay). */
  #exclusive<T>(op: () => Promise<T>): Promise<T> {
    return this.#ops.run(op);
  }
}
