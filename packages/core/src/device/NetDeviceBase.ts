import { hasFeature, VIRTIO_F_VERSION_1, VIRTIO_ID_NET, VIRTQ_MAX_SIZE } from '../defs/virtio.ts';
import {
  VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MAX,
  VIRTIO_NET_ERR,
  VIRTIO_NET_F_CTRL_GUEST_OFFLOADS,
  VIRTIO_NET_F_CTRL_MAC_ADDR,
  VIRTIO_NET_F_CTRL_RX,
  VIRTIO_NET_F_CTRL_RX_EXTRA,
  VIRTIO_NET_F_CTRL_VLAN,
  VIRTIO_NET_F_CTRL_VQ,
  VIRTIO_NET_F_GUEST_ANNOUNCE,
  VIRTIO_NET_F_MAC,
  VIRTIO_NET_F_MQ,
  VIRTIO_NET_OK,
  VIRTIO_NET_S_ANNOUNCE,
  VIRTIO_NET_S_LINK_UP,
} from '../defs/virtio_net.ts';
import { VnicError } from '../errors/VnicError.ts';
import type { GuestMemory } from '../memory/GuestMemory.ts';
import { checkNetFeatures } from '../net/checkNetFeatures.ts';
import { decodeNetCtrlCommand } from '../net/decodeNetCtrlCommand.ts';
import { encodeVirtioNetConfig } from '../net/encodeVirtioNetConfig.ts';
import { guestOffloadFeatures } from '../net/guestOffloadFeatures.ts';
import type { NetCtrlCommand } from '../net/NetCtrlCommand.ts';
import type { NetCtrlState } from '../net/NetCtrlState.ts';
import { netDeviceFeatures } from '../net/netDeviceFeatures.ts';
import { pruneNetFeatures } from '../net/pruneNetFeatures.ts';
import { VIRTIO_NET_CONFIG_SIZE, VIRTIO_NET_DUPLEX_UNKNOWN, VIRTIO_NET_SPEED_UNKNOWN } from '../net/VirtioNetConfig.ts';
import type { QueueState } from '../queue/QueueState.ts';
import type { SplitQueue } from '../queue/SplitQueue.ts';
import type { ActivateContext } from './ActivateContext.ts';
import type { DeviceEvents } from './DeviceEvents.ts';
import type { NetCtrlCounters } from './NetCtrlCounters.ts';
import type { NetDeviceConfig } from './NetDeviceConfig.ts';
import type { QueueStats } from './QueueStats.ts';
import { TypedEmitter } from './TypedEmitter.ts';
import type { VirtioNetDevice } from './VirtioNetDevice.ts';
import { errorMessage } from '../errors/errorMessage.ts';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const ACK_OK = Uint8Array.of(VIRTIO_NET_OK);
const ACK_ERR = Uint8Array.of(VIRTIO_NET_ERR);
const VLAN_WORDS = 4096 / 32;
const MAX_CONFIG_READ = 0x1000;

/**
 * Everything the three virtio-net backends share, behind `VirtioNetDevice`: the feature offer
 * (what vnic implements for this config AND what the backend supports, dependencies pruned),
 * driver feature checks (§5.1.3.1, VERSION_1 required: modern devices only), config space with a
 * content-tracking generation, link and announce, the control queue (§5.1.6.5) with its state and
 * counters, and the activate/reset/close life cycle (serialized, activate-twice rejected, the
 * ActivateContext checked before a backend sees it, close idempotent).
 *
 * A backend implements `activateDataPlane`, `resetDataPlane`, `closeBackend` and `stats`, calls
 * `processControlQueue` when the control queue is kicked, and reacts to control commands through
 * the `on*` hooks (return false or throw to make the ack VIRTIO_NET_ERR; the state is rolled back).
 */
export abstract class NetDeviceBase implements VirtioNetDevice {
  /** Entries each MAC filter table keeps (as QEMU's MAC_TABLE_ENTRIES); more set the overflow flag. */
  static readonly MAC_TABLE_ENTRIES = 64;
  /** Largest device-readable part of a control command read (1 MiB); larger chains are acked ERR. */
  static readonly MAX_CTRL_COMMAND_SIZE = 1 << 20;

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
  #generation = 0;
  #configBytes: Uint8Array;
  #state: Mutable<NetCtrlState>;
  readonly #counters: Mutable<NetCtrlCounters> = { commands: 0, ok: 0, err: 0, malformed: 0 };

  #isActivated = false;
  #activationPending = false;
  #dataPlaneRunning = false;
  #epoch = 0;
  #closed = false;
  #closing: Promise<void> | undefined;
  #tail: Promise<unknown> = Promise.resolve();

  /**
   * @param config the validated NIC config
   * @param backendFeatures every feature bit the backend's data plane supports
   */
  protected constructor(config: NetDeviceConfig, backendFeatures: bigint) {
    validateConfig(config);
    this.config = config;
    this.id = config.id;
    this.backend = config.backend;
    // The backend mask can remove a feature another one requires: prune again (§2.2.1).
    this.deviceFeatures = pruneNetFeatures(netDeviceFeatures(config) & backendFeatures);
    if (!hasFeature(this.deviceFeatures, VIRTIO_F_VERSION_1)) {
      throw new VnicError(
        'unsupported',
        `${config.id}: backend ${config.backend} does not support VIRTIO_F_VERSION_1; vnic only drives modern (virtio 1.x) devices`,
      );
    }
    this.queuePairs = hasFeature(this.deviceFeatures, VIRTIO_NET_F_MQ) ? config.queuePairs : 1;
    this.numQueues = 2 * this.queuePairs + (hasFeature(this.deviceFeatures, VIRTIO_NET_F_CTRL_VQ) ? 1 : 0);
    this.queueMaxSize = config.queueSize;
    this.#state = this.#initialCtrlState(0n);
    this.#configBytes = this.#encodeConfig();
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
    this.#state = this.#initialCtrlState(features);
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
    if (!Number.isInteger(length) || length < 0 || length > MAX_CONFIG_READ) return new Uint8Array(0);
    const out = new Uint8Array(length);
    if (!Number.isInteger(offset)) return out;
    const src = this.#configBytes;
    for (let i = 0; i < length; i++) {
      const at = offset + i;
      if (at >= 0 && at < src.length) out[i] = src[at]!;
    }
    return out;
  }

  /** virtio-net config space is read-only for a VERSION_1 driver (§5.1.4.2): writes are ignored. */
  writeConfig(_offset: number, _data: Uint8Array): void {
    // Read-only.
  }

  /** Incremented (u32) whenever a byte of config space changes. */
  get configGeneration(): number {
    return this.#generation;
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
   * Checks `ctx` against the negotiated features and the device limits, then starts the data plane
   * (after any pending reset; a reset() called before it starts cancels it quietly). Rejects with `invalid-state` when closed, not negotiated or already activated (or activating),
   * with `invalid-argument` naming the field when the context is wrong; backend errors pass through.
   */
  async activate(ctx: ActivateContext): Promise<void> {
    if (this.#closed) throw new VnicError('invalid-state', `${this.id}: activate() on a closed device`);
    if (this.#isActivated || this.#activationPending) {
      throw new VnicError('invalid-state', `${this.id}: activate() called twice without a reset() in between`);
    }
    if (!this.#negotiated) throw new VnicError('invalid-state', `${this.id}: activate() before the driver's features were accepted`);
    this.#validateContext(ctx);
    this.#activationPending = true;
    const epoch = this.#epoch;
    return this.#serial(async () => {
      try {
        if (this.#closed) throw new VnicError('invalid-state', `${this.id}: close() overtook activate()`);
        // A reset() that overtook this activation wins: nothing to start.
        if (epoch !== this.#epoch) return;
        await this.activateDataPlane(ctx);
        this.#dataPlaneRunning = true;
        if (epoch === this.#epoch) this.#isActivated = true;
      } finally {
        if (epoch === this.#epoch) this.#activationPending = false;
      }
    });
  }

  /**
   * Resets the device: negotiation, control state and announce are cleared at once (a driver may
   * negotiate again while the data plane stops); the data plane stops after any pending activate()
   * and its ring positions are returned (empty when it was not running).
   */
  reset(): Promise<QueueState[]> {
    if (this.#closed) return Promise.resolve([]);
    this.#epoch++;
    this.#isActivated = false;
    this.#activationPending = false;
    this.#acked = 0n;
    this.#negotiated = false;
    this.#announcePending = false;
    this.#state = this.#initialCtrlState(0n);
    this.#refreshConfig();
    return this.#serial(async () => {
      if (!this.#dataPlaneRunning) return [];
      this.#dataPlaneRunning = false;
      return this.resetDataPlane();
    });
  }

  /**
   * Stops the data plane (resetDataPlane, failures reported as `warning`) and releases the backend
   * (closeBackend). Idempotent: every call returns the same promise.
   */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#closed = true;
    this.#epoch++;
    this.#isActivated = false;
    this.#activationPending = false;
    this.#closing = this.#serial(async () => {
      if (this.#dataPlaneRunning) {
        this.#dataPlaneRunning = false;
        try {
          await this.resetDataPlane();
        } catch (err) {
          this.events.emit('warning', `${this.id}: stopping the data plane on close failed: ${errorMessage(err)}`);
        }
      }
      await this.closeBackend();
    });
    return this.#closing;
  }

  /** Per-queue counters, index order. */
  abstract stats(): QueueStats[];

  /** Starts the backend's data plane; on failure it must leave nothing running. */
  protected abstract activateDataPlane(ctx: ActivateContext): Promise<void>;
  /** Stops the data plane and returns the ring state of every activated queue, in index order. */
  protected abstract resetDataPlane(): Promise<QueueState[]>;
  /** Releases every backend resource (called once, after the data plane stopped). */
  protected abstract closeBackend(): Promise<void>;

  // ---- control queue --------------------------------------------------------------------------

  /** The control-queue state (a live read-only view; replaced on negotiation and reset). */
  get ctrlState(): NetCtrlState {
    return this.#state;
  }

  /** Control-queue counters (a snapshot). */
  get ctrlCounters(): NetCtrlCounters {
    return { ...this.#counters };
  }

  /**
   * Handles every available control command: pops the chains, decodes the readable part, applies
   * it, writes the one-byte ack (VIRTIO_NET_OK/ERR) at the start of the writable part and returns
   * the chain with used length 1. A chain without a writable byte is returned with used length 0
   * and counted malformed. Returns whether the guest must be notified (the caller signals callFd).
   */
  processControlQueue(mem: GuestMemory, queue: SplitQueue): boolean {
    for (let chain = queue.pop(mem); chain !== undefined; chain = queue.pop(mem)) {
      this.#counters.commands++;
      if (chain.writableLength < 1) {
        this.#counters.malformed++;
        queue.addUsed(mem, chain.head, 0);
        continue;
      }
      let ok = false;
      if (chain.readableLength > NetDeviceBase.MAX_CTRL_COMMAND_SIZE) {
        this.#counters.malformed++;
      } else {
        const decoded = decodeNetCtrlCommand(chain.readAll(mem));
        if (decoded.ok) ok = this.#applyCtrl(decoded.command);
        else this.#counters.malformed++;
      }
      if (ok) this.#counters.ok++;
      else this.#counters.err++;
      const written = chain.writeFrom(mem, ok ? ACK_OK : ACK_ERR);
      queue.addUsed(mem, chain.head, written);
    }
    return queue.needsNotification(mem);
  }

  /** VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET accepted: `pairs` queue pairs are now in use. */
  protected onActivePairsChanged(_pairs: number): boolean | void {}
  /** VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET accepted: the guest now accepts these receive offloads. */
  protected onGuestOffloadsChanged(_offloads: bigint): boolean | void {}
  /** RX mode, MAC table or VLAN filter changed (read `ctrlState`). */
  protected onRxFilterChanged(): boolean | void {}
  /** VIRTIO_NET_CTRL_MAC_ADDR_SET accepted: the default MAC is now `mac`. */
  protected onMacChanged(_mac: Uint8Array): boolean | void {}

  // ---- internals ------------------------------------------------------------------------------

  #applyCtrl(cmd: NetCtrlCommand): boolean {
    const acked = this.#acked;
    const s = this.#state;
    switch (cmd.kind) {
      case 'rx-mode': {
        const need = cmd.mode === 'promisc' || cmd.mode === 'allmulti' ? VIRTIO_NET_F_CTRL_RX : VIRTIO_NET_F_CTRL_RX_EXTRA;
        if (!hasFeature(acked, need)) return false;
        const prev = s[cmd.mode];
        s[cmd.mode] = cmd.on;
        return this.#commit(() => this.onRxFilterChanged(), () => (s[cmd.mode] = prev));
      }
      case 'mac-table-set': {
        if (!hasFeature(acked, VIRTIO_NET_F_CTRL_RX)) return false;
        const prev = { unicast: s.unicast, multicast: s.multicast, uniOverflow: s.uniOverflow, multiOverflow: s.multiOverflow };
        const max = NetDeviceBase.MAC_TABLE_ENTRIES;
        s.uniOverflow = cmd.unicast.length > max;
        s.multiOverflow = cmd.multicast.length > max;
        s.unicast = s.uniOverflow ? [] : cmd.unicast.map((m) => m.slice());
        s.multicast = s.multiOverflow ? [] : cmd.multicast.map((m) => m.slice());
        return this.#commit(() => this.onRxFilterChanged(), () => Object.assign(s, prev));
      }
      case 'mac-addr-set': {
        if (!hasFeature(acked, VIRTIO_NET_F_CTRL_MAC_ADDR)) return false;
        const prev = s.mac;
        const mac = cmd.mac.slice();
        s.mac = mac;
        this.#refreshConfig();
        return this.#commit(
          () => this.onMacChanged(mac.slice()),
          () => {
            s.mac = prev;
            this.#refreshConfig();
          },
        );
      }
      case 'vlan-add':
      case 'vlan-del': {
        if (!hasFeature(acked, VIRTIO_NET_F_CTRL_VLAN)) return false;
        const word = cmd.vid >>> 5;
        const prev = s.vlans[word]!;
        const bit = 1 << (cmd.vid & 31);
        s.vlans[word] = cmd.kind === 'vlan-add' ? prev | bit : prev & ~bit;
        return this.#commit(() => this.onRxFilterChanged(), () => (s.vlans[word] = prev));
      }
      case 'announce-ack': {
        // As QEMU: an ack without a pending announce is an error.
        if (!hasFeature(acked, VIRTIO_NET_F_GUEST_ANNOUNCE) || !this.#announcePending) return false;
        this.#announcePending = false;
        this.#refreshConfig();
        return true;
      }
      case 'mq-vq-pairs-set': {
        if (!hasFeature(acked, VIRTIO_NET_F_MQ) || cmd.pairs > this.queuePairs) return false;
        const prev = s.activePairs;
        s.activePairs = cmd.pairs;
        return this.#commit(() => this.onActivePairsChanged(cmd.pairs), () => (s.activePairs = prev));
      }
      case 'guest-offloads-set': {
        if (!hasFeature(acked, VIRTIO_NET_F_CTRL_GUEST_OFFLOADS)) return false;
        if ((cmd.offloads & ~guestOffloadFeatures(acked)) !== 0n) return false;
        const prev = s.guestOffloads;
        s.guestOffloads = cmd.offloads;
        return this.#commit(() => this.onGuestOffloadsChanged(cmd.offloads), () => (s.guestOffloads = prev));
      }
    }
  }

  /** Runs a backend hook; on false or a throw, undoes the state change and reports it. */
  #commit(hook: () => boolean | void, undo: () => unknown): boolean {
    let accepted: boolean;
    try {
      accepted = hook() !== false;
      if (!accepted) this.events.emit('warning', `${this.id}: backend refused a control command`);
    } catch (err) {
      accepted = false;
      this.events.emit('warning', `${this.id}: backend failed a control command: ${errorMessage(err)}`);
    }
    if (!accepted) undo();
    return accepted;
  }

  #initialCtrlState(features: bigint): Mutable<NetCtrlState> {
    const vlans = new Uint32Array(VLAN_WORDS);
    if (!hasFeature(features, VIRTIO_NET_F_CTRL_VLAN)) vlans.fill(0xffffffff);
    return {
      promisc: true,
      allmulti: false,
      alluni: false,
      nomulti: false,
      nouni: false,
      nobcast: false,
      mac: this.config.mac.slice(),
      unicast: [],
      multicast: [],
      uniOverflow: false,
      multiOverflow: false,
      vlans,
      activePairs: 1,
      guestOffloads: guestOffloadFeatures(features),
    };
  }

  #encodeConfig(): Uint8Array {
    return encodeVirtioNetConfig({
      mac: hasFeature(this.#acked, VIRTIO_NET_F_MAC) ? this.#state.mac : this.config.mac,
      status: (this.#link ? VIRTIO_NET_S_LINK_UP : 0) | (this.#announcePending ? VIRTIO_NET_S_ANNOUNCE : 0),
      maxVirtqueuePairs: this.queuePairs,
      mtu: this.config.mtu ?? 0,
      speed: VIRTIO_NET_SPEED_UNKNOWN,
      duplex: VIRTIO_NET_DUPLEX_UNKNOWN,
    });
  }

  /** Re-encodes config space; bumps the generation when a byte changed. */
  #refreshConfig(): void {
    const next = this.#encodeConfig();
    const prev = this.#configBytes;
    if (next.every((b, i) => b === prev[i])) return;
    this.#configBytes = next;
    this.#generation = (this.#generation + 1) >>> 0;
  }

  #validateContext(ctx: ActivateContext): void {
    const bad = (msg: string): never => {
      throw new VnicError('invalid-argument', `${this.id}: activate: ${msg}`);
    };
    if (ctx.features !== this.#acked) {
      bad(`features 0x${ctx.features.toString(16)} differ from the acked features 0x${this.#acked.toString(16)}`);
    }
    const regions = ctx.memory?.regions;
    if (!Array.isArray(regions) || regions.length === 0) bad('guest memory layout has no regions');
    const pairs = hasFeature(this.#acked, VIRTIO_NET_F_MQ) ? this.queuePairs : 1;
    const maxQueues = 2 * pairs + (hasFeature(this.#acked, VIRTIO_NET_F_CTRL_VQ) ? 1 : 0);
    if (ctx.queues.length === 0) bad('no queue is enabled');
    if (ctx.queues.length > maxQueues) bad(`${ctx.queues.length} queues, at most ${maxQueues} with the acked features`);
    let prev = -1;
    for (const q of ctx.queues) {
      const where = `queue ${q.index}`;
      if (!Number.isInteger(q.index) || q.index < 0 || q.index >= maxQueues) bad(`${where}: index outside 0..${maxQueues - 1}`);
      if (q.index <= prev) bad(`${where}: queues must be in increasing index order without duplicates`);
      prev = q.index;
      if (!Number.isInteger(q.size) || q.size < 1 || q.size > this.queueMaxSize || (q.size & (q.size - 1)) !== 0) {
        bad(`${where}: size ${q.size} is not a power of two between 1 and ${this.queueMaxSize}`);
      }
      checkRing(bad, regions, where, 'descriptor table', q.descTable, 16 * q.size, 16);
      checkRing(bad, regions, where, 'available ring', q.availRing, 6 + 2 * q.size, 2);
      checkRing(bad, regions, where, 'used ring', q.usedRing, 6 + 8 * q.size, 4);
      if (!Number.isInteger(q.kickFd) || !Number.isInteger(q.callFd)) bad(`${where}: kickFd/callFd must be integers`);
    }
  }

  #serial<T>(op: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(op);
    this.#tail = run.catch(() => undefined);
    return run;
  }
}

function checkRing(
  bad: (msg: string) => never,
  regions: ActivateContext['memory']['regions'],
  where: string,
  what: string,
  addr: number,
  bytes: number,
  align: number,
): void {
  if (!Number.isSafeInteger(addr) || addr < 0) bad(`${where}: ${what} address ${addr} is not a valid guest-physical address`);
  if (addr % align !== 0) bad(`${where}: ${what} at 0x${addr.toString(16)} is not ${align}-byte aligned`);
  const inside = regions.some((r) => addr >= r.guestPhysAddr && addr - r.guestPhysAddr <= r.size - bytes);
  if (!inside) bad(`${where}: ${what} at 0x${addr.toString(16)} (+${bytes}) is outside guest memory`);
}

function validateConfig(c: NetDeviceConfig): void {
  const bad = (msg: string): never => {
    throw new VnicError('invalid-argument', `${c.id}: ${msg}`);
  };
  if (!(c.mac instanceof Uint8Array) || c.mac.length !== 6) bad('mac must be 6 bytes');
  if (!Number.isInteger(c.queuePairs) || c.queuePairs < 1 || c.queuePairs > VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MAX) {
    bad(`queuePairs ${c.queuePairs} is outside 1..${VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MAX}`);
  }
  if (!Number.isInteger(c.queueSize) || c.queueSize < 2 || c.queueSize > VIRTQ_MAX_SIZE || (c.queueSize & (c.queueSize - 1)) !== 0) {
    bad(`queueSize ${c.queueSize} is not a power of two between 2 and ${VIRTQ_MAX_SIZE}`);
  }
  if (c.mtu !== undefined && (!Number.isInteger(c.mtu) || c.mtu < 68 || c.mtu > 65535)) bad(`mtu ${c.mtu} is outside 68..65535`);
}
