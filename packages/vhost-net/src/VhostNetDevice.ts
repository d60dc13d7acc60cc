import {
  errorMessage,
  featureBit,
  formatConfigIssues,
  hasFeature,
  NetDeviceBase,
  offeredQueuePairs,
  programVhostVrings,
  stopVhostVrings,
  vhostBackendMask,
  VnicError,
  vringUserAddr,
  type ActivateContext,
  type DirtyLog,
  type GuestMemory,
  type NetDeviceConfig,
  type QueueContext,
  type QueueHost,
  type QueueState,
  type VhostVringAddr,
} from '@vnic/core';
import { VIRTIO_NET_F_MQ } from '@vnic/core/virtio_net';
import {
  dupFd,
  epollQueueHost,
  EventFd,
  guestMemoryFromLayout,
  openNetTap,
  SysError,
  tapBackendFeatures,
  tunOffloadFlags,
  tunTxFilter,
  VHOST_F_LOG_ALL,
  VHOST_NET_PATH,
  VHOST_VRING_F_LOG,
  VhostNetFd,
  leaseEventLoop,
  type EpollLoop,
  type EventLoopLease,
  type NetTap,
  type Tap,
} from '@vnic/sys';
import { validateVhostNetOptions } from './validateVhostNetOptions.ts';
import { VHOST_NET_RING_FEATURES } from './VHOST_NET_RING_FEATURES.ts';
import { VhostNetControlPlane } from './VhostNetControlPlane.ts';
import { VhostNetError } from './VhostNetError.ts';
import type { VhostNetOptions } from './VhostNetOptions.ts';

/** A TUNSETTXFILTER no frame passes (only the all-zero destination, which no valid frame has). */
const LINK_DOWN_FILTER = { allMulti: false, addrs: [new Uint8Array(6)] };

/** One activation (DRIVER_OK until reset). */
interface Activation {
  readonly ctx: ActivateContext;
  readonly mem: GuestMemory;
  /** Data queues handed to the kernel, index order. */
  readonly data: readonly QueueContext[];
  /** Queue pairs negotiated (MQ: the device's, else 1). */
  readonly pairs: number;
  /** Pairs whose vrings have the tap attached (VHOST_NET_SET_BACKEND). */
  readonly attached: boolean[];
  /** Vrings whose VHOST_SET_VRING_ERR fired (reported once). */
  readonly broken: Set<number>;
}

/**
 * A virtio-net device whose data plane is the host kernel's vhost-net (/dev/vhost-net, one fd and
 * one kernel worker per queue pair) moving frames between the guest's rings and a tap. vnic keeps
 * features, config space, link and the control queue (the device core serves it on the VMM's main
 * thread, as QEMU and StratoVirt do); the kernel gets, per activation, the data vrings from core's
 * vring programmer (VHOST_SET_FEATURES, VHOST_SET_MEM_TABLE, per vring NUM/BASE/ADDR/KICK/CALL)
 * plus VHOST_SET_VRING_ERR, then VHOST_NET_SET_BACKEND with the pair's tap queue fd.
 * reset() detaches the backends and reads VHOST_GET_VRING_BASE, so a later activate() resumes each
 * ring where it stopped. A vring error the kernel signals (VHOST_SET_VRING_ERR) becomes a
 * `needs-reset` event. Dirty logging (startDirtyLog, for live migration) is the kernel's own:
 * VHOST_SET_LOG_BASE, VHOST_F_LOG_ALL and VHOST_VRING_F_LOG per vring. Build one with
 * `VhostNetDevice.open(config)`.
 */
export class VhostNetDevice extends NetDeviceBase {
  /** The tap interface name. */
  readonly tapName: string;
  /** TUN_F_* offloads the tap accepted when probed. */
  readonly tapOffloads: number;
  /** Features the kernel's vhost-net supports (VHOST_GET_FEATURES, all fds intersected). */
  readonly vhostFeatures: bigint;
  /** The kernel control plane (one /dev/vhost-net fd per queue pair). */
  readonly vhost: VhostNetControlPlane;

  readonly #tap: Tap;
  readonly #loop: EpollLoop;
  readonly #loopLease: EventLoopLease;
  /** One VHOST_SET_VRING_ERR eventfd per data vring, alive as long as the device. */
  readonly #errFds: EventFd[];
  #active: Activation | undefined;
  #tapQueueOn: boolean[];
  /** True while the kernel holds a dirty log address (VHOST_SET_LOG_BASE): dropped (0) on stop and teardown. */
  #logBaseSet = false;

  private constructor(config: NetDeviceConfig, vhost: VhostNetControlPlane, vhostFeatures: bigint, tap: NetTap, loop: EpollLoop | undefined) {
    super(config, VhostNetDevice.backendMask(vhostFeatures, tap.offloads));
    this.vhost = vhost;
    this.vhostFeatures = vhostFeatures;
    this.#tap = tap.tap;
    this.tapName = tap.tap.name;
    this.tapOffloads = tap.offloads;
    this.#tapQueueOn = tap.tap.fds.map(() => true);
    this.#errFds = [];
    try {
      for (let i = 0; i < 2 * vhost.fds.length; i++) this.#errFds.push(EventFd.create({ nonBlocking: true }));
    } catch (e) {
      for (const f of this.#errFds) f.close();
      throw e;
    }
    this.#loopLease = leaseEventLoop(loop);
    this.#loop = this.#loopLease.loop;
  }

  /**
   * Opens (or adopts the VMM's `vhostFds`) one /dev/vhost-net fd per queue pair, claims each with
   * VHOST_SET_OWNER, reads VHOST_GET_FEATURES, opens the tap of the `"vhost-net"` section (12-byte
   * vnet header, offloads probed, MTU) and builds the device, which offers what the kernel and the
   * tap support intersected with the NIC config. Throws a VhostNetError: `unavailable` when
   * /dev/vhost-net or /dev/net/tun is missing or not permitted ("/dev/vhost-net not found: load
   * the vhost_net module"), `invalid-argument` for a bad section or fds, `vhost`/`tap` otherwise.
   * Leaves nothing open on failure. `services.loop` is the EpollLoop to watch the control-queue
   * kick and the vring-error eventfds on (a container's EVENT_LOOP); without it the process-wide
   * sharedEpollLoop is used.
   */
  static open(config: NetDeviceConfig, services: { readonly loop?: EpollLoop } = {}): VhostNetDevice {
    const issues = validateVhostNetOptions(config.options);
    if (issues.length > 0) {
      throw new VhostNetError('invalid-argument', `${config.id}: invalid "vhost-net" section: ${formatConfigIssues(issues)}`);
    }
    const options = config.options as VhostNetOptions;
    // One tap queue and one vhost fd per queue pair the device can offer (MQ needs the control queue).
    const pairs = offeredQueuePairs(config);
    const fds = openVhostFds(config.id, options.vhostFds, pairs);
    let tap: NetTap | undefined;
    try {
      const vhost = new VhostNetControlPlane(config.id, fds);
      wrapSync(() => fds.forEach((f) => f.setOwner()), config.id, 'VHOST_SET_OWNER');
      const features = vhost.getFeaturesSync();
      try {
        tap = openNetTap({ nic: config.id, section: 'vhost-net', ...options, queues: pairs, mtu: config.mtu, nonBlocking: false });
      } catch (e) {
        throw VnicError.is(e) && !SysError.is(e) ? new VhostNetError(e.kind as VhostNetError['kind'], e.message, { cause: e.cause }) : e;
      }
      return new VhostNetDevice(config, vhost, features, tap, services.loop);
    } catch (e) {
      tap?.discard();
      for (const f of fds) f.close();
      throw e;
    }
  }

  /**
   * The backend mask handed to NetDeviceBase: the tap's features (tapBackendFeatures: offloads it
   * takes, the control-queue family vnic serves), with the ring features the kernel decides
   * (VHOST_NET_RING_FEATURES) kept only where VHOST_GET_FEATURES has them.
   */
  static backendMask(vhostFeatures: bigint, tapOffloads: number): bigint {
    return tapBackendFeatures(tapOffloads) & vhostBackendMask(vhostFeatures, VHOST_NET_RING_FEATURES);
  }

  /** Queue pairs whose vrings currently have the tap attached (0 when not activated). */
  get attachedPairs(): number {
    return this.#active?.attached.filter(Boolean).length ?? 0;
  }

  /** The control queue's kick is watched on the shared loop (data queues report zeros: the kernel counts nothing vhost-net exposes). */
  protected override queueHost(): QueueHost {
    return epollQueueHost(this.#loop);
  }

  /**
   * Changes the link state. Link down detaches the tap from every vring (the kernel stops moving
   * frames both ways, as QEMU stops vhost on link down) and makes the tap drop what arrives for
   * the guest meanwhile; link up restores the receive filter and attaches the active pairs again.
   */
  override setLinkUp(up: boolean): void {
    super.setLinkUp(up);
    const act = this.#active;
    if (act === undefined) return;
    try {
      this.#applyRxFilter();
      this.#applyPairs(act, this.ctrlState.activePairs);
    } catch (e) {
      this.events.emit('needs-reset', `${this.id}: link ${up ? 'up' : 'down'}: ${errorMessage(e)}`, undefined);
    }
  }

  // ---- life cycle -------------------------------------------------------------------------------

  protected override async activateDataPlane(ctx: ActivateContext): Promise<void> {
    const mem = guestMemoryFromLayout(ctx.memory);
    const pairs = hasFeature(ctx.features, VIRTIO_NET_F_MQ) ? this.queuePairs : 1;
    const data = ctx.queues;
    const v = this.vhost;
    const act: Activation = { ctx, mem, data, pairs, attached: v.fds.map(() => false), broken: new Set() };
    const log = this.dirtyLog;
    try {
      this.#setTapOffload(this.ctrlState.guestOffloads);
      this.#applyRxFilter();
      // Logging kept across a reset: the log base first (the kernel checks it when LOG_ALL is set).
      if (log !== undefined) this.#setLogBase(this.#logAddr(log), 'starting dirty logging');
      await programVhostVrings(v, ctx, {
        features: this.#ringFeatures(ctx, log !== undefined),
        ringAddr: (q) => this.#ringAddr(ctx, q, log !== undefined),
        afterRing: async (q) => {
          const err = this.#errFds[q.index]!;
          err.read(); // a signal left from an earlier activation
          await v.setVringErr(q.index, err.fd);
          this.#loop.add(err.fd, () => this.#onVringErr(act, q.index));
        },
      });
      // The guest starts with one queue pair (virtio 1.2 §5.1.6.5.5).
      this.#applyPairs(act, this.ctrlState.activePairs);
      this.#active = act;
    } catch (e) {
      this.#teardown(act);
      throw e;
    }
  }

  protected override async resetDataPlane(): Promise<QueueState[]> {
    const act = this.#active;
    this.#active = undefined;
    if (act === undefined) return [];
    for (const q of act.data) this.#loop.remove(this.#errFds[q.index]!.fd);
    // Detach first: the kernel worker finishes what it is doing and stops touching the rings.
    for (let k = 0; k < act.attached.length; k++) {
      try {
        this.#setPair(act, k, false);
      } catch (e) {
        this.events.emit('warning', `${this.id}: detaching queue pair ${k} on reset failed: ${errorMessage(e)}`);
      }
    }
    const states = await stopVhostVrings(this.vhost, act.mem, act.data, (q, e) =>
      this.events.emit('warning', `${this.id}: queue ${q.index}: VHOST_GET_VRING_BASE failed, resuming from the used index: ${errorMessage(e)}`),
    );
    this.#teardown(act);
    return states;
  }

  protected override async closeBackend(): Promise<void> {
    // resetDataPlane removed this device's fds from the shared loop already.
    await this.#loopLease.release();
    const errors: unknown[] = []; // every failure; the first is thrown
    const attempt = (op: () => void): void => {
      try {
        op();
      } catch (e) {
        errors.push(e);
      }
    };
    // Closing a vhost fd stops its worker and drops every kernel reference (memory, eventfds, tap).
    for (const f of this.vhost.fds) attempt(() => f.close());
    for (const f of this.#errFds) attempt(() => f.close());
    // A tap the device created goes away with its fds (unless persistent); handed-in fds were duplicated.
    attempt(() => this.#tap.close());
    if (errors.length > 0) throw errors[0];
  }

  // ---- dirty log ------------------------------------------------------------------------------

  /**
   * Starts (log) or stops (undefined) the kernel's dirty logging, QEMU's order
   * (hw/virtio/vhost.c vhost_dev_set_log): VHOST_SET_LOG_BASE with the log's address in this
   * process, VHOST_SET_FEATURES with VHOST_F_LOG_ALL (the worker then logs every RX buffer it
   * fills), VHOST_SET_VRING_ADDR with VHOST_VRING_F_LOG and the used ring's guest-physical address
   * as log_guest_addr per data vring (used elements, used->idx, flags and avail_event). Stopping
   * clears both and drops the log base (0), all while the rings run; each ioctl takes the vring's
   * mutex in the kernel, so once this resolves the worker writes the old log no more. Without an
   * activation the log is only kept: activate() hands it over. A failed start is rolled back.
   */
  protected override async setDataPlaneDirtyLog(log: DirtyLog | undefined): Promise<void> {
    if (log !== undefined) {
      if (!hasFeature(this.vhostFeatures, VHOST_F_LOG_ALL)) {
        throw new VhostNetError(
          'unsupported',
          `${this.id}: the kernel's vhost-net does not offer VHOST_F_LOG_ALL (VHOST_GET_FEATURES 0x${this.vhostFeatures.toString(16)}): it cannot log the pages it writes, so this NIC cannot be live-migrated`,
        );
      }
      this.#logAddr(log);
    }
    const act = this.#active;
    if (act === undefined) {
      if (log === undefined) this.#dropLogBase();
      return;
    }
    if (log === undefined) {
      await this.#applyLogging(act, false, 'stopping dirty logging');
      this.#dropLogBase();
      return;
    }
    try {
      this.#setLogBase(this.#logAddr(log), 'starting dirty logging');
      await this.#applyLogging(act, true, 'starting dirty logging');
    } catch (e) {
      try {
        await this.#applyLogging(act, false, 'rolling back dirty logging');
        this.#dropLogBase();
      } catch (e2) {
        this.events.emit('warning', `${this.id}: ${errorMessage(e2)}`);
      }
      throw e;
    }
  }

  /** The log's address in this process (VHOST_SET_LOG_BASE); throws when the log has none. */
  #logAddr(log: DirtyLog): bigint {
    if (log.hostAddr === undefined) {
      throw new VhostNetError(
        'invalid-argument',
        `${this.id}: the dirty log has no host address: the kernel's vhost worker writes it through this process's mapping (VHOST_SET_LOG_BASE), so give a mapped log (@vnic/sys MemfdDirtyLog)`,
      );
    }
    return log.hostAddr;
  }

  #setLogBase(addr: bigint, what: string): void {
    try {
      this.vhost.setLogBase(addr);
    } catch (e) {
      throw new VhostNetError('vhost', `${this.id}: ${what}: ${errorMessage(e)}`, { cause: e });
    }
    this.#logBaseSet = addr !== 0n;
  }

  /** VHOST_SET_LOG_BASE 0 when the kernel holds a log address (a failure is a warning: no worker writes without LOG_ALL). */
  #dropLogBase(): void {
    if (!this.#logBaseSet) return;
    try {
      this.#setLogBase(0n, 'dropping the dirty log base');
    } catch (e) {
      this.events.emit('warning', errorMessage(e));
    }
  }

  /** VHOST_SET_FEATURES with or without VHOST_F_LOG_ALL, then VHOST_SET_VRING_ADDR with or without VHOST_VRING_F_LOG on every data vring. */
  async #applyLogging(act: Activation, on: boolean, what: string): Promise<void> {
    try {
      await this.vhost.setFeatures(this.#ringFeatures(act.ctx, on));
      for (const q of act.data) await this.vhost.setVringAddr(q.index, this.#ringAddr(act.ctx, q, on));
    } catch (e) {
      throw new VhostNetError(VhostNetError.is(e) ? e.kind : 'vhost', `${this.id}: ${what}: ${errorMessage(e)}`, { cause: e });
    }
  }

  // ---- control-queue hooks (main thread) --------------------------------------------------------

  protected override onActivePairsChanged(pairs: number): boolean {
    const act = this.#active;
    if (act === undefined) return false;
    this.#applyPairs(act, pairs);
    return true;
  }

  protected override onGuestOffloadsChanged(offloads: bigint): boolean {
    this.#setTapOffload(offloads);
    return true;
  }

  protected override onRxFilterChanged(): boolean {
    if (this.#active !== undefined) this.#applyRxFilter();
    return true;
  }

  protected override onMacChanged(): boolean {
    if (this.#active !== undefined) this.#applyRxFilter();
    return true;
  }

  // ---- internals --------------------------------------------------------------------------------

  /** VHOST_SET_FEATURES value: the acked ring features the kernel handles, VHOST_F_LOG_ALL while logging. */
  #ringFeatures(ctx: ActivateContext, logging: boolean): bigint {
    return (ctx.features & this.vhostFeatures & VHOST_NET_RING_FEATURES) | (logging ? featureBit(VHOST_F_LOG_ALL) : 0n);
  }

  /** VHOST_SET_VRING_ADDR of `q` (host addresses); while logging with VHOST_VRING_F_LOG and the used ring's guest-physical address as log_guest_addr. */
  #ringAddr(ctx: ActivateContext, q: QueueContext, logging: boolean): VhostVringAddr {
    try {
      const a = vringUserAddr(ctx.memory, q);
      return logging
        ? { ...a, flags: a.flags | (1 << VHOST_VRING_F_LOG), logGuestAddr: BigInt(q.usedRing) }
        : { ...a, flags: a.flags & ~(1 << VHOST_VRING_F_LOG) };
    } catch (e) {
      throw new VhostNetError('invalid-argument', `${this.id}: queue ${q.index}: ${errorMessage(e)}`, { cause: e });
    }
  }

  #setTapOffload(guestOffloads: bigint): void {
    const flags = tunOffloadFlags(guestOffloads, this.tapOffloads);
    try {
      this.#tap.setOffload(flags);
    } catch (e) {
      throw new VhostNetError('tap', `${this.id}: tap ${this.tapName}: cannot set offloads 0x${flags.toString(16)}: ${errorMessage(e)}`, { cause: e });
    }
  }

  /**
   * The guest's RX filter (RX mode, MAC table, default MAC) as the tap's TUNSETTXFILTER: the kernel
   * drops what the guest did not ask for before vhost sees it (a superset filter: multicast
   * beyond 8 entries is hashed; VLAN tags are not filtered).
   */
  #applyRxFilter(): void {
    try {
      // Link down: nothing passes (frames are dropped by the tap, not queued for a later link up).
      this.#tap.setTxFilter(this.linkUp ? tunTxFilter(this.ctrlState) : LINK_DOWN_FILTER);
    } catch (e) {
      throw new VhostNetError('tap', `${this.id}: tap ${this.tapName}: cannot set the receive filter: ${errorMessage(e)}`, { cause: e });
    }
  }

  /**
   * Uses the first `pairs` pairs: their tap queues attached, the others detached (the kernel
   * steers to attached queues only); their vrings given the tap (all detached while the link is down).
   */
  #applyPairs(act: Activation, pairs: number): void {
    const used = Math.min(pairs, act.pairs);
    const kernel = this.linkUp ? used : 0;
    for (let k = 0; k < act.attached.length; k++) {
      if (k < used) this.#setTapQueue(k, true);
      this.#setPair(act, k, k < kernel);
      if (k >= used) this.#setTapQueue(k, false);
    }
  }

  /** VHOST_NET_SET_BACKEND for both vrings of pair `k`: its tap queue fd, or -1. */
  #setPair(act: Activation, k: number, on: boolean): void {
    if (act.attached[k] === on) return;
    for (const q of act.data) if (q.index >> 1 === k) this.vhost.setBackend(q.index, on ? this.#tap.fds[k]! : -1);
    act.attached[k] = on;
  }

  /**
   * With 2+ tap queues, the kernel steers frames to attached queues only (TUNSETQUEUE). Queue 0
   * stays attached (device-wide tap ioctls go through it; link down detaches only the vrings).
   */
  #setTapQueue(k: number, on: boolean): void {
    if (k === 0 || this.#tap.fds.length < 2 || this.#tapQueueOn[k] === on) return;
    try {
      this.#tap.setQueueEnabled(k, on);
    } catch (e) {
      throw new VhostNetError('tap', `${this.id}: tap ${this.tapName} queue ${k}: cannot ${on ? 'attach' : 'detach'} it: ${errorMessage(e)}`, { cause: e });
    }
    this.#tapQueueOn[k] = on;
  }

  /** Unbinds the kernel from the VMM's eventfds and stops watching; safe on a half-built activation. */
  #teardown(act: Activation): void {
    for (const q of act.data) {
      this.#loop.remove(this.#errFds[q.index]!.fd);
      this.vhost.unbind(q.index);
    }
    act.attached.fill(false);
    this.#dropLogBase(); // the next activation hands a kept log over again
    try {
      this.#tap.setOffload(0); // no partially checksummed frame for a guest that did not ask for one
      this.#tap.setTxFilter(undefined);
    } catch (e) {
      this.events.emit('warning', `${this.id}: tap ${this.tapName}: cannot clear offloads and the receive filter: ${errorMessage(e)}`);
    }
  }

  #onVringErr(act: Activation, index: number): void {
    this.#errFds[index]!.read();
    if (act !== this.#active || act.broken.has(index)) return;
    act.broken.add(index);
    this.events.emit(
      'needs-reset',
      `${this.id}: queue ${index}: the kernel's vhost-net signalled a vring error (VHOST_SET_VRING_ERR): a bad descriptor, an available ring index that moved too far, or a ring outside guest memory; it stopped the queue`,
      index,
    );
  }
}

/** Opens /dev/vhost-net `pairs` times, or duplicates the VMM's fds; nothing left open on failure. */
function openVhostFds(nic: string, handed: readonly number[] | undefined, pairs: number): VhostNetFd[] {
  const out: VhostNetFd[] = [];
  try {
    if (handed === undefined) {
      for (let k = 0; k < pairs; k++) {
        try {
          out.push(VhostNetFd.open());
        } catch (e) {
          const code = SysError.is(e) ? e.code : undefined;
          if (code === 'ENOENT' || code === 'ENODEV')
            throw new VhostNetError('unavailable', `${nic}: ${VHOST_NET_PATH} not found: load the vhost_net module (${errorMessage(e)})`, { cause: e });
          if (code === 'EACCES' || code === 'EPERM')
            throw new VhostNetError('unavailable', `${nic}: cannot open ${VHOST_NET_PATH}: ${errorMessage(e)}`, { cause: e });
          throw new VhostNetError('vhost', `${nic}: cannot open ${VHOST_NET_PATH}: ${errorMessage(e)}`, { cause: e });
        }
      }
      return out;
    }
    if (handed.length !== pairs) {
      throw new VhostNetError(
        'invalid-argument',
        `${nic}: "vhost-net".vhostFds has ${handed.length} fd(s) but the NIC has ${pairs} queue pair(s): pass one /dev/vhost-net fd per pair`,
      );
    }
    for (const [i, fd] of handed.entries()) {
      let dup: number;
      try {
        dup = dupFd(fd);
      } catch (e) {
        throw new VhostNetError('invalid-argument', `${nic}: "vhost-net".vhostFds[${i}]: cannot use fd ${fd}: ${errorMessage(e)}`, { cause: e });
      }
      const v = VhostNetFd.fromFd(dup);
      out.push(v);
      try {
        v.getFeatures();
      } catch (e) {
        throw new VhostNetError('invalid-argument', `${nic}: "vhost-net".vhostFds[${i}] (fd ${fd}) is not a /dev/vhost-net fd: ${errorMessage(e)}`, {
          cause: e,
        });
      }
    }
    return out;
  } catch (e) {
    for (const f of out) {
      try {
        f.close();
      } catch {
        // keep the first error
      }
    }
    throw e;
  }
}

function wrapSync(op: () => void, nic: string, what: string): void {
  try {
    op();
  } catch (e) {
    const busy = SysError.is(e) && e.code === 'EBUSY';
    throw new VhostNetError('vhost', `${nic}: ${what} failed${busy ? ' (a handed-in vhost fd must not be owned yet)' : ''}: ${errorMessage(e)}`, { cause: e });
  }
}
