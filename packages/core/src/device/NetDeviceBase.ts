import { hasFeature, VIRTIO_F_VERSION_1, VIRTIO_ID_NET } from '../defs/virtio.ts';
import { VIRTIO_NET_F_CTRL_VQ, VIRTIO_NET_F_GUEST_ANNOUNCE, VIRTIO_NET_F_MAC, VIRTIO_NET_F_MQ } from '../defs/virtio_net.ts';
import type { DirtyLog } from '../dirtylog/DirtyLog.ts';
import { VnicError } from '../errors/VnicError.ts';
import type { GuestMemory } from '../memory/GuestMemory.ts';
import { checkNetFeatures } from '../net/checkNetFeatures.ts';
import { NetCtrlHandler } from '../net/NetCtrlHandler.ts';
import type { NetCtrlState } from '../net/NetCtrlState.ts';
import { VIRTIO_NET_CONFIG_SIZE } from '../net/VirtioNetConfig.ts';
import type { QueueState } from '../queue/QueueState.ts';
import type { DeviceQueue } from '../queue/DeviceQueue.ts';
import { packedWraps } from '../queue/packedWraps.ts';
import { frameToHex } from './state/frameToHex.ts';
import { hexToFrame } from './state/hexToFrame.ts';
import type { ActivateContext } from './ActivateContext.ts';
import { ControlQueue } from './ControlQueue.ts';
import type { DeviceEvents } from './DeviceEvents.ts';
import type { NetConfigFields } from './NetConfigSpace.ts';
import { NetConfigSpace } from './NetConfigSpace.ts';
import type { NetCtrlCounters } from './NetCtrlCounters.ts';
import type { NetDeviceConfig } from './NetDeviceConfig.ts';
import { netDeviceOffer } from './netDeviceOffer.ts';
import type { QueueHost } from './QueueHost.ts';
import type { QueueStats } from './QueueStats.ts';
import { TypedEmitter } from './TypedEmitter.ts';
import { validateActivateContext } from './validateActivateContext.ts';
import type { VirtioNetDevice } from './VirtioNetDevice.ts';
import { errorMessage } from '../errors/errorMessage.ts';
import { SerialQueue } from '../serial/SerialQueue.ts';
import type { QueueContext } from './QueueContext.ts';
import { featureNames } from './state/featureNames.ts';
import { NET_DEVICE_STATE_VERSION } from './state/NET_DEVICE_STATE_VERSION.ts';
import type { NetDeviceState } from './state/NetDeviceState.ts';
import { netCtrlSnapshot } from './state/netCtrlSnapshot.ts';
import { parseNetDeviceState, type ParsedNetDeviceState } from './state/parseNetDeviceState.ts';
import type { RestoreContext } from './state/RestoreContext.ts';
import { stateHex } from './state/stateHex.ts';
import { checkCoalescing } from './checkCoalescing.ts';
import type { NetCoalescing } from './NetCoalescing.ts';
import { NOTF_COAL_FEATURES } from '../net/NOTF_COAL_FEATURES.ts';

/**
 * Everything the virtio-net backends share, behind `VirtioNetDevice`: the feature offer
 * (netDeviceOffer), driver feature checks (§5.1.3.1, VERSION_1 required: modern devices only),
 * config space (NetConfigSpace), link and announce, the control queue end to end (NetCtrlHandler
 * for the commands, ControlQueue for the ring: kick, service, call, NEEDS_RESET, its stats row),
 * and the activate/reset/close life cycle (serialized, activate-twice rejected, the
 * ActivateContext checked by validateActivateContext before a backend sees it, close idempotent).
 *
 * A backend implements `activateDataPlane` (it gets the DATA queues only), `resetDataPlane`,
 * `closeBackend`, `queueHost` (the one hook: memory mapping, kick watching, call signalling for the
 * queue core serves) and, when its data plane counts, `queueStats`; it reacts to control commands
 * through the `on*` hooks (return false or throw to make the ack VIRTIO_NET_ERR; the state is
 * rolled back).
 */
export abstract class NetDeviceBase implements VirtioNetDevice {
  /** Entries each MAC filter table keeps (as QEMU's MAC_TABLE_ENTRIES); more set the overflow flag. */
  static readonly MAC_TABLE_ENTRIES = NetCtrlHandler.MAC_TABLE_ENTRIES;
  /** Largest device-readable part of a control command read (1 MiB); larger chains are acked ERR. */
  static readonly MAX_CTRL_COMMAND_SIZE = NetCtrlHandler.MAX_CTRL_COMMAND_SIZE;

  /** NIC id from the VM config. */
  readonly id: string;
  /** Backend name. */
  readonly backend: string;
  /** VIRTIO_ID_NET. */
  readonly deviceType = VIRTIO_ID_NET;
  /** Maximum queue pairs: the configured count when VIRTIO_NET_F_MQ is offered, else 1. */
  readonly queuePairs: number;
  /** 2 * queuePairs, plus 1 when VIRTIO_NET_F_CTRL_VQ is offered. */
  readonly numQueues: number;
  /** Largest queue size the driver may choose (config `queueSize`). */
  readonly queueMaxSize: number;
  /** Features offered: netDeviceFeatures(config) AND backendFeatures, dependencies pruned. */
  readonly deviceFeatures: bigint;
  /** Bytes of config space (through `duplex`). */
  readonly configSize = VIRTIO_NET_CONFIG_SIZE;
  /** Device events. */
  readonly events = new TypedEmitter<DeviceEvents>();
  /** The validated config the device was built from. */
  protected readonly config: NetDeviceConfig;

  #acked = 0n;
  #negotiated = false;
  #link = true;
  #announcePending = false;
  readonly #space: NetConfigSpace;
  readonly #ctrl: NetCtrlHandler;
  /** The control queue of the running activation. */
  #ctrlQueue: ControlQueue | undefined;
  /** Index of the control queue of the last activation (its stats row). */
  #ctrlRow: number | undefined;
  /** Malformed chains of earlier activations' control queues. */
  #ctrlChainMalformed = 0;

  #isActivated = false;
  #activationPending = false;
  #dataPlaneRunning = false;
  #epoch = 0;
  #closed = false;
  #closing: Promise<void> | undefined;
  readonly #ops = new SerialQueue();
  /** The context of the running (or quiesced) activation, control queue included. */
  #ctx: ActivateContext | undefined;
  /** Set while quiesced: where every queue of #ctx stopped. */
  #quiesced: QueueState[] | undefined;
  /** The backend's data plane holds back notifications (its mask has NOTF_COAL_FEATURES). */
  readonly #coalescable: boolean;
  #coalescing: NetCoalescing = {};
  /** Counters a restored device continues from (data queue rows, by index). */
  #statsBase: readonly QueueStats[] = [];
  /** The dirty log in use (startDirtyLog), or undefined. */
  #dirtyLog: DirtyLog | undefined;

  /**
   * @param config the validated NIC config
   * @param backendFeatures every feature bit the backend's data plane supports
   */
  protected constructor(config: NetDeviceConfig, backendFeatures: bigint) {
    const offer = netDeviceOffer(config, backendFeatures);
    this.#coalescable = (backendFeatures & NOTF_COAL_FEATURES) !== 0n;
    if (config.coalescing !== undefined) {
      this.#coalescing = checkCoalescing(config.id, config.coalescing);
      if (!this.#coalescable && (this.#coalescing.rx !== undefined || this.#coalescing.tx !== undefined)) throw this.#noCoalescing();
    }
    this.config = config;
    this.id = config.id;
    this.backend = config.backend;
    this.deviceFeatures = offer.deviceFeatures;
    this.queuePairs = offer.queuePairs;
    this.numQueues = offer.numQueues;
    this.queueMaxSize = config.queueSize;
    this.#ctrl = new NetCtrlHandler(
      {
        queuePairs: this.queuePairs,
        onActivePairsChanged: (pairs) => this.onActivePairsChanged(pairs),
        onGuestOffloadsChanged: (offloads) => this.onGuestOffloadsChanged(offloads),
        onRxFilterChanged: () => this.onRxFilterChanged(),
        onMacChanged: (mac) => this.onMacChanged(mac),
        onNotfCoalChanged: () => this.onCoalescingChanged(),
        ackAnnounce: () => {
          if (!this.#announcePending) return false;
          this.#announcePending = false;
          this.#refreshConfig();
          return true;
        },
        macUpdated: () => this.#refreshConfig(),
        warn: (msg) => this.events.emit('warning', `${this.id}: ${msg}`),
      },
      config.mac,
    );
    this.#space = new NetConfigSpace(this.#configFields());
  }

  // ---- features -------------------------------------------------------------------------------

  /** Features the driver acked (0n before negotiation and after reset). */
  get ackedFeatures(): bigint {
    return this.#acked;
  }

  /**
   * Records the driver's features. False (nothing recorded, a `warning` emitted) when they are not
   * a subset of the offer, lack VIRTIO_F_VERSION_1, break a §5.1.3.1 dependency, or the data plane
   * is running or the device closed.
   */
  setDriverFeatures(features: bigint): boolean {
    if (this.#closed || this.#isActivated || this.#activationPending) return false;
    if (typeof features !== 'bigint' || features < 0n) return false;
    const extra = features & ~this.deviceFeatures;
    let reason: string | undefined;
    if (extra !== 0n) reason = `driver acked features the device did not offer: 0x${extra.toString(16)}`;
    else if (!hasFeature(features, VIRTIO_F_VERSION_1)) reason = 'driver did not ack VIRTIO_F_VERSION_1 (legacy drivers are not supported)';
    else reason = checkNetFeatures(features);
    if (reason !== undefined) {
      this.events.emit('warning', `${this.id}: features refused: ${reason}`);
      return false;
    }
    this.#acked = features;
    this.#negotiated = true;
    this.#ctrl.reset(features);
    this.#refreshConfig();
    return true;
  }

  /** Index of the control queue for the acked features (2N, N = pairs with MQ, else 1), or undefined without CTRL_VQ. */
  get ctrlQueueIndex(): number | undefined {
    if (!hasFeature(this.#acked, VIRTIO_NET_F_CTRL_VQ)) return undefined;
    return 2 * (hasFeature(this.#acked, VIRTIO_NET_F_MQ) ? this.queuePairs : 1);
  }

  // ---- config space ---------------------------------------------------------------------------

  /** Reads `length` bytes of config space at `offset`; bytes outside it read 0 (bad lengths give an empty array). */
  readConfig(offset: number, length: number): Uint8Array {
    return this.#space.read(offset, length);
  }

  /** virtio-net config space is read-only for a VERSION_1 driver (§5.1.4.2): writes are ignored. */
  writeConfig(_offset: number, _data: Uint8Array): void {
    // Read-only.
  }

  /** Incremented (u32) whenever a byte of config space changes. */
  get configGeneration(): number {
    return this.#space.generation;
  }

  // ---- notification coalescing ----------------------------------------------------------------

  /** The VMM's coalescing (config `coalescing`, then setCoalescing); the guest's is in `ctrlState.notfCoal`. */
  get coalescing(): NetCoalescing {
    return this.#coalescing;
  }

  /**
   * Sets the VMM's notification coalescing at run time, no reset: each direction given wins over
   * the guest's VIRTIO_NET_CTRL_NOTF_COAL parameters for that direction; a direction left out
   * goes back to the guest's. Throws VnicError `invalid-argument` naming the field, `unsupported`
   * on a backend whose data plane is not vnic's (vhost-net, vhost-user).
   */
  setCoalescing(c: NetCoalescing): void {
    const checked = checkCoalescing(this.id, c);
    if (!this.#coalescable) throw this.#noCoalescing();
    const prev = this.#coalescing;
    this.#coalescing = checked;
    if (this.onCoalescingChanged() === false) {
      this.#coalescing = prev;
      throw new VnicError('invalid-state', `${this.id}: the backend refused the coalescing settings`);
    }
  }

  /** The guest's or the VMM's coalescing changed: the backend applies coalescingFor(ctrlState.notfCoal, coalescing, vqn). */
  protected onCoalescingChanged(): boolean | void {}

  #noCoalescing(): VnicError {
    return new VnicError(
      'unsupported',
      `${this.id}: coalescing: backend ${this.backend} does not coalesce notifications (its data plane, not vnic's, signals the guest); remove "coalescing" or use the virtio-net backend`,
    );
  }

  // ---- link -----------------------------------------------------------------------------------

  /** Link state reported as VIRTIO_NET_S_LINK_UP (up at creation). */
  get linkUp(): boolean {
    return this.#link;
  }

  /** Changes the link state: updates config `status`, bumps the generation, emits `link` and `config-change`. */
  setLinkUp(up: boolean): void {
    if (this.#closed || up === this.#link) return;
    this.#link = up;
    this.#refreshConfig();
    this.events.emit('link', up);
    this.events.emit('config-change');
  }

  /**
   * Asks the guest to announce itself: sets VIRTIO_NET_S_ANNOUNCE and emits `config-change` when
   * the driver acked VIRTIO_NET_F_GUEST_ANNOUNCE; a no-op otherwise. VIRTIO_NET_CTRL_ANNOUNCE_ACK
   * clears the bit.
   */
  announce(): void {
    if (this.#closed || !hasFeature(this.#acked, VIRTIO_NET_F_GUEST_ANNOUNCE)) return;
    this.#announcePending = true;
    this.#refreshConfig();
    this.events.emit('config-change');
  }

  // ---- life cycle -----------------------------------------------------------------------------

  /** True between a successful activate() and the next reset()/close(). */
  get activated(): boolean {
    return this.#isActivated;
  }

  /**
   * Checks `ctx` against the negotiated features and the device limits, starts the control queue
   * (served by the core) and the backend's data plane with the data queues (after any pending
   * reset; a reset() called before it starts cancels it quietly). Rejects with `invalid-state` when
   * closed, not negotiated or already activated (or activating), with `invalid-argument` naming the
   * field when the context is wrong; backend errors pass through.
   */
  async activate(ctx: ActivateContext): Promise<void> {
    if (this.#closed) throw new VnicError('invalid-state', `${this.id}: activate() on a closed device`);
    if (this.#isActivated || this.#activationPending) {
      throw new VnicError('invalid-state', `${this.id}: activate() called twice without a reset() in between`);
    }
    if (!this.#negotiated) throw new VnicError('invalid-state', `${this.id}: activate() before the driver's features were accepted`);
    const problem = validateActivateContext(ctx, { acked: this.#acked, queuePairs: this.queuePairs, queueMaxSize: this.queueMaxSize });
    if (problem !== undefined) throw new VnicError('invalid-argument', `${this.id}: activate: ${problem}`);
    this.#activationPending = true;
    const epoch = this.#epoch;
    return this.#serial(async () => {
      try {
        if (this.#closed) throw new VnicError('invalid-state', `${this.id}: close() overtook activate()`);
        // A reset() that overtook this activation wins: nothing to start.
        if (epoch !== this.#epoch) return;
        await this.#start(ctx);
        if (epoch === this.#epoch) this.#isActivated = true;
      } finally {
        if (epoch === this.#epoch) this.#activationPending = false;
      }
    });
  }

  /**
   * Resets the device: negotiation, control state and announce are cleared at once (a driver may
   * negotiate again while the data plane stops); the control queue and the data plane stop after
   * any pending activate() and their ring positions are returned (empty when it was not running).
   */
  reset(): Promise<QueueState[]> {
    if (this.#closed) return Promise.resolve([]);
    this.#epoch++;
    this.#isActivated = false;
    this.#activationPending = false;
    this.#acked = 0n;
    this.#negotiated = false;
    this.#announcePending = false;
    this.#ctrl.reset(0n);
    this.#refreshConfig();
    return this.#serial(async () => {
      const quiesced = this.#quiesced;
      this.#quiesced = undefined;
      this.#ctx = undefined;
      if (!this.#dataPlaneRunning) return quiesced ?? [];
      return this.#stop();
    });
  }

  /**
   * Stops the control queue and the data plane (resetDataPlane, failures reported as `warning`)
   * and releases the backend (closeBackend). Idempotent: every call returns the same promise.
   */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#closed = true;
    this.#epoch++;
    this.#isActivated = false;
    this.#activationPending = false;
    this.#closing = this.#serial(async () => {
      this.#quiesced = undefined;
      this.#ctx = undefined;
      if (this.#dataPlaneRunning) {
        try {
          await this.#stop();
        } catch (err) {
          this.events.emit('warning', `${this.id}: stopping the data plane on close failed: ${errorMessage(err)}`);
        }
      }
      this.#dirtyLog = undefined;
      await this.closeBackend();
    });
    return this.#closing;
  }

  /**
   * Per-queue counters, index order: the backend's rows (queueStats) for the data queues, the
   * core's row for the control queue (commands as `packets`, malformed commands and chains as
   * `malformed`).
   */
  stats(): QueueStats[] {
    const ctrlIndex = this.#ctrlQueue?.index ?? this.#ctrlRow ?? (this.numQueues % 2 === 1 ? this.numQueues - 1 : undefined);
    const rows: QueueStats[] = [];
    for (let index = 0; index < this.numQueues; index++) {
      if (index === ctrlIndex) rows.push(this.#ctrlStatsRow(index));
      else rows.push(addStats(this.queueStats(index), this.#statsBase[index]));
    }
    return rows;
  }

  /**
   * Counters of data queue `index`. Default: zeros, for a data plane that cannot report them (in
   * the kernel or in another process).
   */
  protected queueStats(index: number): QueueStats {
    return { index, packets: 0, bytes: 0, drops: 0, malformed: 0, noBuffer: 0, filtered: 0 };
  }

  /**
   * The one hook a backend supplies for the queue the core serves (the control queue): guest
   * memory mapping, kick watching (main thread), call signalling. Usually `epollQueueHost(loop)`
   * from `@vnic/sys`.
   */
  protected abstract queueHost(): QueueHost;
  /** Starts the backend's data plane over `ctx.queues` (the data queues only); on failure it must leave nothing running. */
  protected abstract activateDataPlane(ctx: ActivateContext): Promise<void>;
  /** Stops the data plane and returns the ring state of every activated data queue, in index order. */
  protected abstract resetDataPlane(): Promise<QueueState[]>;
  /** Releases every backend resource (called once, after the data plane stopped). */
  protected abstract closeBackend(): Promise<void>;

  // ---- dirty log ------------------------------------------------------------------------------

  /** The dirty log in use (startDirtyLog), or undefined. A backend's activateDataPlane starts logging into it when set. */
  get dirtyLog(): DirtyLog | undefined {
    return this.#dirtyLog;
  }

  /**
   * Starts dirty logging into `log` (see VirtioNetDevice.startDirtyLog): checks that the log covers
   * the running activation's guest memory, hands it to the backend (setDataPlaneDirtyLog, which
   * refuses when the backend cannot log) and to the control queue. Kept across reset()/activate().
   */
  startDirtyLog(log: DirtyLog): Promise<void> {
    if (this.#closed) return Promise.reject(new VnicError('invalid-state', `${this.id}: startDirtyLog() on a closed device`));
    if (typeof log !== 'object' || log === null || typeof log.markRange !== 'function' || !Number.isSafeInteger(log.pages)) {
      return Promise.reject(new VnicError('invalid-argument', `${this.id}: startDirtyLog: log must be a DirtyLog`));
    }
    return this.#serial(async () => {
      if (this.#closed) throw new VnicError('invalid-state', `${this.id}: close() overtook startDirtyLog()`);
      if (this.#dirtyLog === log) return;
      if (this.#dirtyLog !== undefined)
        throw new VnicError('invalid-state', `${this.id}: startDirtyLog: already logging into another log (stopDirtyLog() first)`);
      const problem = this.#ctx === undefined ? undefined : logCoverageProblem(log, this.#ctx);
      if (problem !== undefined) throw new VnicError('invalid-argument', `${this.id}: startDirtyLog: ${problem}`);
      await this.setDataPlaneDirtyLog(log);
      this.#dirtyLog = log;
      if (this.#ctrlQueue !== undefined) this.#ctrlQueue.dirtyLog = log;
    });
  }

  /** Stops dirty logging (a no-op when not logging); resolves once neither the core nor the backend writes the log. */
  stopDirtyLog(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return this.#serial(async () => {
      if (this.#dirtyLog === undefined) return;
      if (this.#ctrlQueue !== undefined) this.#ctrlQueue.dirtyLog = null;
      try {
        await this.setDataPlaneDirtyLog(undefined);
      } finally {
        this.#dirtyLog = undefined;
      }
    });
  }

  /**
   * True when the data plane delivers a receive queue's `rxBacklog` (frames an earlier one took in
   * and had no guest buffer for) before anything else; otherwise the frames are dropped at
   * activation with a `warning` naming how many.
   */
  protected get takesRxBacklog(): boolean {
    return false;
  }

  /**
   * The backend's part of start/stopDirtyLog: make the running data plane (if any) mark every guest
   * page it writes in `log` from now on (undefined: stop, and return only once nothing writes the
   * old log). activateDataPlane must start logging into `this.dirtyLog` itself when it is set.
   * Default: refuses, for a backend that cannot log.
   */
  protected setDataPlaneDirtyLog(log: DirtyLog | undefined): Promise<void> {
    if (log === undefined) return Promise.resolve();
    return Promise.reject(
      new VnicError(
        'unsupported',
        `${this.id}: the ${this.backend} backend cannot log the guest pages it writes (dirty log), so this NIC cannot be live-migrated: use a backend that can (virtio-net, vhost-net, vhost-user with LOG_SHMFD)`,
      ),
    );
  }

  // ---- control queue --------------------------------------------------------------------------

  /** The control-queue state (a live read-only view; replaced on negotiation and reset). */
  get ctrlState(): NetCtrlState {
    return this.#ctrl.state;
  }

  /** Control-queue counters (a snapshot). */
  get ctrlCounters(): NetCtrlCounters {
    return this.#ctrl.counters;
  }

  /**
   * Handles every available control command on `queue` (NetCtrlHandler.process): returns whether
   * the guest must be notified. The core's ControlQueue calls this for every backend; it is public
   * for transports and tests that drive a ring themselves.
   */
  processControlQueue(mem: GuestMemory, queue: DeviceQueue): boolean {
    return this.#ctrl.process(mem, queue);
  }

  /** VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET accepted: `pairs` queue pairs are now in use. */
  protected onActivePairsChanged(_pairs: number): boolean | void {}
  /** VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET accepted: the guest now accepts these receive offloads. */
  protected onGuestOffloadsChanged(_offloads: bigint): boolean | void {}
  /** RX mode, MAC table or VLAN filter changed (read `ctrlState`). */
  protected onRxFilterChanged(): boolean | void {}
  /** VIRTIO_NET_CTRL_MAC_ADDR_SET accepted: the default MAC is now `mac`. */
  protected onMacChanged(_mac: Uint8Array): boolean | void {}

  // ---- device state -------------------------------------------------------------------------

  /** True after quiesce() or saveState() stopped a running data plane, until resume(), reset() or close(). */
  get quiesced(): boolean {
    return this.#quiesced !== undefined;
  }

  /**
   * Stops the data plane and the control queue at a consistent point (every chain either done and
   * in the used ring or still in the avail ring) without a reset: the guest still sees DRIVER_OK.
   * A no-op when not activated or already quiesced. resume() starts it again on the same rings.
   */
  quiesce(): Promise<void> {
    if (this.#closed) return Promise.reject(new VnicError('invalid-state', `${this.id}: quiesce() on a closed device`));
    return this.#serial(async () => {
      if (!this.#dataPlaneRunning || this.#quiesced !== undefined) return;
      this.#quiesced = await this.#stop();
    });
  }

  /** Starts a quiesced data plane again where every ring stopped (a no-op when not quiesced). */
  resume(): Promise<void> {
    if (this.#closed) return Promise.reject(new VnicError('invalid-state', `${this.id}: resume() on a closed device`));
    return this.#serial(async () => {
      const states = this.#quiesced;
      const ctx = this.#ctx;
      if (states === undefined || ctx === undefined) return;
      await this.#start(resumeContext(ctx, states));
      this.#quiesced = undefined;
    });
  }

  /**
   * Quiesces the device (see quiesce()) and returns its whole state (NetDeviceState: features,
   * config, control state, ring addresses and positions, link, counters), JSON-serialisable. The
   * device stays quiesced: close() it (hand-over), or resume() it.
   */
  async saveState(): Promise<NetDeviceState> {
    await this.quiesce();
    return this.#serial(() => Promise.resolve(this.#snapshot()));
  }

  /**
   * Makes this freshly built device take over a saved one (another process, tap, socket or host
   * may be behind it): checks `state` (parseNetDeviceState) and that this device can give what the
   * guest negotiated (same offer limits, MAC, MTU, queue pairs; every acked feature offered), takes
   * the features, control state, link and counters, and when the saved device was running starts
   * the data plane on the saved rings from where they stopped, with the VMM's memory map and
   * eventfds from `ctx`. With VIRTIO_NET_F_GUEST_ANNOUNCE acked it then asks the guest to announce
   * itself (unless `ctx.announce` is false). Rejects with a VnicError `state-refused` naming the field that differs, `invalid-state`
   * when the device is closed or already in use; on any failure the device is left as built.
   */
  async restoreState(state: unknown, ctx?: RestoreContext): Promise<void> {
    if (this.#closed) throw new VnicError('invalid-state', `${this.id}: restoreState() on a closed device`);
    if (this.#negotiated || this.#isActivated || this.#activationPending) {
      throw new VnicError('invalid-state', `${this.id}: restoreState() on a device a driver already uses: restore into a freshly built device`);
    }
    const p = parseNetDeviceState(state);
    const actx = this.#checkRestorable(p, ctx);
    const s = p.state;
    this.#acked = p.acked;
    this.#negotiated = true;
    this.#ctrl.restore(p.acked, p.ctrl, s.counters.ctrl);
    this.#link = s.link.up;
    this.#announcePending = s.link.announce;
    const base: QueueStats[] = [];
    for (const row of s.counters.queues) base[row.index] = row;
    const ctrlRow = this.ctrlQueueIndex === undefined ? undefined : base[this.ctrlQueueIndex];
    this.#ctrlChainMalformed = Math.max(0, (ctrlRow?.malformed ?? 0) - s.counters.ctrl.malformed);
    this.#statsBase = base;
    this.#refreshConfig();
    if (actx !== undefined) {
      try {
        await this.activate(actx);
      } catch (err) {
        await this.reset();
        this.#link = true;
        this.#statsBase = [];
        this.#ctrlChainMalformed = 0;
        this.#ctrl.restore(0n, this.#ctrl.state, { commands: 0, ok: 0, err: 0, malformed: 0 });
        this.#refreshConfig();
        throw err;
      }
    }
    if (ctx?.announce !== false) this.announce();
  }

  #snapshot(): NetDeviceState {
    const ctx = this.#quiesced === undefined ? undefined : this.#ctx;
    const states = this.#quiesced ?? [];
    return {
      format: 'vnic.net-device-state',
      version: NET_DEVICE_STATE_VERSION,
      id: this.id,
      backend: this.backend,
      features: { offered: stateHex(this.deviceFeatures), acked: stateHex(this.#acked) },
      config: {
        mac: [...this.config.mac],
        mtu: this.config.mtu ?? 0,
        maxVirtqueuePairs: this.queuePairs,
        queueMaxSize: this.queueMaxSize,
        numQueues: this.numQueues,
      },
      link: { up: this.#link, announce: this.#announcePending },
      ctrl: netCtrlSnapshot(this.#ctrl.state),
      activated: this.#isActivated,
      queues: (ctx?.queues ?? []).map((q, i) => ({
        index: q.index,
        size: q.size,
        descTable: q.descTable,
        availRing: q.availRing,
        usedRing: q.usedRing,
        nextAvail: states[i]?.nextAvail ?? 0,
        nextUsed: states[i]?.nextUsed ?? 0,
        ...packedWraps(states[i]),
        ...(states[i]?.rxBacklog === undefined ? {} : { rxBacklog: states[i].rxBacklog.map(frameToHex) }),
      })),
      counters: { queues: this.stats(), ctrl: this.#ctrl.counters },
    };
  }

  /** Refuses a state this device cannot give the guest; returns the activation to run (when it was running). */
  #checkRestorable(p: ParsedNetDeviceState, ctx: RestoreContext | undefined): ActivateContext | undefined {
    const s = p.state;
    const refuse = (field: string, what: string): never => {
      throw new VnicError('state-refused', `${this.id}: device state refused: ${field}: ${what}`);
    };
    if (s.config.maxVirtqueuePairs !== this.queuePairs) {
      refuse(
        'config.maxVirtqueuePairs',
        `the saved device had ${s.config.maxVirtqueuePairs} queue pair(s), this ${this.backend} device offers ${this.queuePairs} (config queuePairs, or a backend with fewer)`,
      );
    }
    if (s.config.numQueues !== this.numQueues)
      refuse('config.numQueues', `the saved device had ${s.config.numQueues} virtqueues, this one has ${this.numQueues} (config ctrlVq differs)`);
    if (s.config.mtu !== (this.config.mtu ?? 0))
      refuse('config.mtu', `the saved device advertised MTU ${s.config.mtu}, this one ${this.config.mtu ?? 0} (config mtu)`);
    if (p.mac.some((b, i) => b !== this.config.mac[i])) refuse('config.mac', 'the saved device was configured with another MAC (config mac)');
    const missing = p.acked & ~this.deviceFeatures;
    if (missing !== 0n) {
      refuse(
        'features.acked',
        `the guest negotiated ${featureNames(missing)}, which this ${this.backend} device cannot offer (its backend, tap or config lacks them)`,
      );
    }
    for (const q of p.queues) {
      if (q.size > this.queueMaxSize) refuse(`queues[index ${q.index}].size`, `${q.size} is above this device's queueSize ${this.queueMaxSize}`);
    }
    if (!s.activated) return undefined;
    if (ctx === undefined) return refuse('activated', 'the saved device was running: pass a RestoreContext (memory map and per-queue eventfds)');
    const fds = new Map(ctx.queues.map((q) => [q.index, q]));
    for (const q of ctx.queues) if (!p.queues.some((sq) => sq.index === q.index)) refuse(`ctx.queues[index ${q.index}]`, 'the saved state has no such queue');
    const queues: QueueContext[] = p.queues.map((q) => {
      const f = fds.get(q.index) ?? refuse(`queues[index ${q.index}]`, 'the RestoreContext gives no eventfds for this queue');
      return {
        index: q.index,
        size: q.size,
        descTable: q.descTable,
        availRing: q.availRing,
        usedRing: q.usedRing,
        kickFd: f.kickFd,
        callFd: f.callFd,
        state: {
          nextAvail: q.nextAvail,
          nextUsed: q.nextUsed,
          ...packedWraps(q),
          ...(q.rxBacklog === undefined ? {} : { rxBacklog: q.rxBacklog.map(hexToFrame) }),
        },
      };
    });
    return { features: p.acked, memory: ctx.memory, queues };
  }

  // ---- internals ------------------------------------------------------------------------------

  /** Starts the control queue and the data plane over `ctx` (inside #serial). */
  async #start(ctx: ActivateContext): Promise<void> {
    const ctrlIndex = this.ctrlQueueIndex;
    const cq = ctx.queues.find((q) => q.index === ctrlIndex);
    // Watching starts before the data plane (a backend may hand the kick to a thread it starts
    // there); serving starts after it, with one pass over what the driver posted meanwhile.
    const ctrl = cq === undefined ? undefined : this.#openCtrl(ctx, cq);
    const log = this.#dirtyLog;
    if (ctrl !== undefined && log !== undefined) ctrl.dirtyLog = log;
    const problem = log === undefined ? undefined : logCoverageProblem(log, ctx);
    if (problem !== undefined) this.events.emit('warning', `${this.id}: dirty log: ${problem}: writes above it are not logged`);
    const lost = this.takesRxBacklog ? 0 : ctx.queues.reduce((n, q) => n + (q.state?.rxBacklog?.length ?? 0), 0);
    if (lost > 0)
      this.events.emit(
        'warning',
        `${this.id}: ${lost} received frame(s) the previous data plane held for the guest are dropped: the ${this.backend} backend cannot deliver them`,
      );
    try {
      await this.activateDataPlane(cq === undefined ? ctx : { ...ctx, queues: ctx.queues.filter((q) => q !== cq) });
    } catch (err) {
      if (ctrl !== undefined) this.#ctrlChainMalformed += (ctrl.stop(), ctrl.malformedChains);
      throw err;
    }
    this.#dataPlaneRunning = true;
    this.#ctx = ctx;
    this.#ctrlQueue = ctrl;
    if (ctrl !== undefined) this.#ctrlRow = ctrl.index;
    ctrl?.start();
  }

  /** Stops the control queue and the data plane (inside #serial); returns every queue's ring state in #ctx order. */
  async #stop(): Promise<QueueState[]> {
    this.#dataPlaneRunning = false;
    const ctrl = this.#stopCtrl();
    const states = await this.resetDataPlane();
    return ctrl === undefined ? states : [...states, ctrl];
  }

  #openCtrl(ctx: ActivateContext, cq: ActivateContext['queues'][number]): ControlQueue {
    const host = this.queueHost();
    return new ControlQueue(cq, {
      nic: this.id,
      features: ctx.features,
      mem: host.mapMemory(ctx.memory),
      handler: this.#ctrl,
      host,
      onNeedsReset: (reason, index) => this.events.emit('needs-reset', reason, index),
    });
  }

  /** Stops the running control queue; returns its ring state. */
  #stopCtrl(): QueueState | undefined {
    const c = this.#ctrlQueue;
    if (c === undefined) return undefined;
    this.#ctrlQueue = undefined;
    const state = c.stop();
    this.#ctrlChainMalformed += c.malformedChains;
    return state;
  }

  #ctrlStatsRow(index: number): QueueStats {
    const c = this.#ctrl.counters;
    return {
      index,
      packets: c.commands,
      bytes: 0,
      drops: 0,
      malformed: c.malformed + this.#ctrlChainMalformed + (this.#ctrlQueue?.malformedChains ?? 0),
      noBuffer: 0,
      filtered: 0,
    };
  }

  #configFields(): NetConfigFields {
    return {
      mac: hasFeature(this.#acked, VIRTIO_NET_F_MAC) ? this.#ctrl.state.mac : this.config.mac,
      linkUp: this.#link,
      announce: this.#announcePending,
      maxVirtqueuePairs: this.queuePairs,
      mtu: this.config.mtu ?? 0,
    };
  }

  #refreshConfig(): void {
    this.#space.update(this.#configFields());
  }

  #serial<T>(op: () => Promise<T>): Promise<T> {
    return this.#ops.run(op);
  }
}

/** Why `log` does not cover the guest memory of `ctx`, or undefined when it does. */
function logCoverageProblem(log: DirtyLog, ctx: ActivateContext): string | undefined {
  let end = 0;
  for (const r of ctx.memory.regions) end = Math.max(end, r.guestPhysAddr + r.size);
  if (log.coveredBytes >= end) return undefined;
  return `the log covers guest-physical [0, 0x${log.coveredBytes.toString(16)}) but guest memory ends at 0x${end.toString(16)} (size it with dirtyLogSize(memoryEnd))`;
}

/** `ctx` with every queue's ring state set from `states` (same order). */
function resumeContext(ctx: ActivateContext, states: readonly QueueState[]): ActivateContext {
  return { ...ctx, queues: ctx.queues.map((q, i) => ({ ...q, state: states[i] ?? q.state ?? { nextAvail: 0, nextUsed: 0 } })) };
}

/** A stats row plus the counters a restored device continues from. */
function addStats(row: QueueStats, base: QueueStats | undefined): QueueStats {
  if (base === undefined) return row;
  return {
    index: row.index,
    packets: row.packets + base.packets,
    bytes: row.bytes + base.bytes,
    drops: row.drops + base.drops,
    malformed: row.malformed + base.malformed,
    noBuffer: row.noBuffer + base.noBuffer,
    filtered: row.filtered + base.filtered,
    ...optionalSum('txWaits', row, base),
    ...optionalSum('throttled', row, base),
    ...optionalSum('throttledBytes', row, base),
  };
}

/** `{ [key]: row + base }` for a counter only some data planes count (absent on both sides: left out). */
function optionalSum(key: 'txWaits' | 'throttled' | 'throttledBytes', row: QueueStats, base: QueueStats): Partial<QueueStats> {
  const a = row[key];
  const b = base[key];
  return a === undefined && b === undefined ? {} : { [key]: (a ?? 0) + (b ?? 0) };
}
