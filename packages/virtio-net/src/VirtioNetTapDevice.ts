import {
  coalescingFor,
  errorMessage,
  featureBit,
  formatConfigIssues,
  hasFeature,
  NOTF_COAL_FEATURES,
  NetDeviceBase,
  offeredQueuePairs,
  SerialQueue,
  VIRTIO_F_RING_PACKED,
  VIRTIO_F_IN_ORDER,
  VnicError,
  type ActivateContext,
  type DirtyLog,
  type NetRateLimit,
  type NetDeviceConfig,
  type PrepareContext,
  type QueueContext,
  type QueueHost,
  type QueueState,
  type QueueStats,
} from '@vnic/core';
import { VIRTIO_NET_F_MQ } from '@vnic/core/virtio_net';
import { EventFd, guestMemoryFromLayout, openNetTap, SysError, tapBackendFeatures, tunOffloadFlags, type NetTap, type Tap } from '@vnic/sys';
import type { IoThreadMode } from './IoThreadMode.ts';
import { IoThreadPool } from './IoThreadPool.ts';
import { QueuePairThreads } from './QueuePairThreads.ts';
import { SharedCoalescing } from './SharedCoalescing.ts';
import { SharedNetState } from './SharedNetState.ts';
import { SharedQueueCounters } from './SharedQueueCounters.ts';
import { SharedRateLimit } from './SharedRateLimit.ts';
import { rateClockMs } from './rateClockMs.ts';
import { validateVirtioNetOptions } from './validateVirtioNetOptions.ts';
import { VirtioNetError } from './VirtioNetError.ts';
import type { VirtioNetOptions } from './VirtioNetOptions.ts';

/** The control queue's kick, as the device core asked to watch it (the pair-0 thread watches it). */
interface CtrlWatch {
  readonly fd: number;
  readonly onKick: () => void;
}

/** One activation of the data plane (DRIVER_OK until reset). */
interface Activation {
  readonly ctx: ActivateContext;
  readonly queues: ReadonlyMap<number, QueueContext>;
  /** Ring positions to resume each queue from (updated when a pair's thread stops). */
  readonly states: Map<number, QueueState>;
  readonly pairs: number;
  readonly threads: QueuePairThreads;
  /** Queue pairs the driver wants (VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET); the control state's at activation. */
  wantPairs: number;
  /** Thread starts/stops for VQ_PAIRS_SET, in order. */
  readonly pairOps: SerialQueue;
  stopping: boolean;
}

/**
 * The in-process virtio-net backend: a NetDeviceBase whose data plane runs on IO threads
 * (worker_threads of an IoThreadPool, shared with other NICs or one per pair with `ioThreads:
 * 'dedicated'`) over a multiqueue tap (IFF_TAP|IFF_NO_PI|IFF_VNET_HDR, a 12-byte
 * virtio_net_hdr, one tap queue per pair). Each thread blocks in one epoll over the RX and TX
 * kick eventfds and tap queues of the pairs it serves, and moves frames between the rings and the
 * tap with readv/writev straight from and into guest memory. The control queue is served by the
 * device core on the main thread; this backend's QueueHost has the pair-0 thread watch its kick
 * and post a message. Offloads follow what the
 * tap supports (probed once) and what the guest accepts (TUNSETOFFLOAD at activation and on
 * VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET). Build one with `VirtioNetTapDevice.open(config)`.
 */
export class VirtioNetTapDevice extends NetDeviceBase {
  /** The tap interface name. */
  readonly tapName: string;
  /** TUN_F_* offloads the tap accepted when probed. */
  readonly tapOffloads: number;
  private readonly tap: Tap;
  private readonly counters: SharedQueueCounters;
  private readonly netState = new SharedNetState();
  private readonly rateLimit: SharedRateLimit;
  /** What each data queue's IO thread coalesces with (the VMM's settings over the guest's). */
  private readonly sharedCoal: SharedCoalescing;
  private active: Activation | undefined;
  private ctrlWatch: CtrlWatch | undefined;
  private tapQueueOn: boolean[];
  private readonly pool: IoThreadPool;
  /** Shared IO threads, or one per queue pair (the config's `ioThreads`). */
  readonly ioThreads: IoThreadMode;

  /** TX through the IO thread's kernel SQ thread (the config's `txSqPoll`). */
  private readonly txSqPoll: boolean;

  private constructor(config: NetDeviceConfig, tap: Tap, tapOffloads: number, pool: IoThreadPool, ioThreads: IoThreadMode, txSqPoll: boolean) {
    super(config, tapBackendFeatures(tapOffloads) | featureBit(VIRTIO_F_RING_PACKED) | featureBit(VIRTIO_F_IN_ORDER) | NOTF_COAL_FEATURES);
    this.sharedCoal = new SharedCoalescing(2 * this.queuePairs);
    this.publishCoalescing();
    this.tap = tap;
    this.tapName = tap.name;
    this.tapOffloads = tapOffloads;
    this.counters = new SharedQueueCounters(this.numQueues);
    this.rateLimit = new SharedRateLimit(this.numQueues);
    this.setRateLimit(config.rateLimit);
    this.tapQueueOn = tap.fds.map(() => true);
    this.pool = pool;
    this.ioThreads = ioThreads;
    this.txSqPoll = txSqPoll;
    pool.retain();
  }

  /**
   * Opens (or attaches to) the tap of `config.options` (`VirtioNetOptions`), sets the 12-byte
   * vnet header, probes its offloads, sets the MTU from `config.mtu` on a tap it opened, and
   * builds the device. Throws a VirtioNetError (kind `unavailable` when /dev/net/tun is missing or
   * not permitted, `invalid-argument` for a bad section or fds, `tap` otherwise) naming the NIC,
   * the tap and the failing call. `services.pool` is the IoThreadPool its queue pairs run on (a
   * container's IO_THREAD_POOL); without one, the process-wide IoThreadPool.shared.
   */
  static open(config: NetDeviceConfig, services: { readonly pool?: IoThreadPool } = {}): VirtioNetTapDevice {
    const issues = validateVirtioNetOptions(config.options);
    if (issues.length > 0) {
      throw new VirtioNetError('invalid-argument', `${config.id}: invalid "virtio-net" section: ${formatConfigIssues(issues)}`);
    }
    const options = config.options as VirtioNetOptions;
    // One tap queue per queue pair the device can offer (MQ needs the control queue).
    const pairs = offeredQueuePairs(config);
    let opened: NetTap;
    try {
      opened = openNetTap({ nic: config.id, section: 'virtio-net', ...options, queues: pairs, mtu: config.mtu, nonBlocking: true });
    } catch (e) {
      throw VnicError.is(e) && !SysError.is(e) ? new VirtioNetError(e.kind as VirtioNetError['kind'], e.message, { cause: e.cause }) : e;
    }
    try {
      return new VirtioNetTapDevice(
        config,
        opened.tap,
        opened.offloads,
        services.pool ?? IoThreadPool.shared,
        options.ioThreads ?? 'shared',
        options.txSqPoll === true,
      );
    } catch (e) {
      opened.discard();
      throw e;
    }
  }

  /**
   * V8 heap bytes allocated so far by the IO thread serving queue pair `pair` (the whole thread:
   * shared threads serve other NICs' pairs too); the difference of two calls is what it allocated
   * between them (IoHeapCounter). Undefined when the pair is not running.
   */
  async ioHeapAllocatedBytes(pair = 0): Promise<number | undefined> {
    return this.active?.threads.heapAllocatedBytes(pair);
  }

  /** The RX paths deliver a restored queue's `rxBacklog` first. */
  protected override get takesRxBacklog(): boolean {
    return true;
  }

  /** Data-queue counters, read from the IO threads' shared counters without any message. */
  protected override queueStats(index: number): QueueStats {
    return { index, ...this.counters.read(index), ...this.rateLimit.counters(index) };
  }

  /**
   * Sets the NIC's rate limits (RX and TX, each a bytes and a frames bucket, shared by all its
   * queue pairs) at run time, without a reset: the buckets keep the tokens they earned (clipped to
   * the new sizes) and take the new rates at once; a throttled direction looks at them again
   * within RATE_WAIT_MAX_MS (50 ms). `undefined` (or an absent direction) removes the limit.
   * Throws a VnicError `invalid-argument` for a bad bucket, changing nothing.
   */
  setRateLimit(limit: NetRateLimit | undefined): void {
    this.rateLimit.set(limit, rateClockMs());
  }

  /** Guest memory and call signals as usual; the kick is watched by the pair-0 IO thread, which posts `ctrl-kick`. */
  protected override queueHost(): QueueHost {
    return {
      mapMemory: (layout) => guestMemoryFromLayout(layout),
      watchKick: (fd, onKick) => {
        const watch = { fd, onKick };
        this.ctrlWatch = watch;
        return () => {
          if (this.ctrlWatch === watch) this.ctrlWatch = undefined;
        };
      },
      // The call fd belongs to the VMM: the wrapper is never closed.
      signal: (fd) => EventFd.fromFd(fd).write(1n),
    };
  }

  /** Changes the link state; while it is down both directions drop frames (counted in `drops`). */
  override setLinkUp(up: boolean): void {
    super.setLinkUp(up);
    this.netState.linkUp = this.linkUp;
  }

  // ---- life cycle -------------------------------------------------------------------------------

  protected override async activateDataPlane(ctx: ActivateContext): Promise<void> {
    const features = ctx.features;
    const pairs = hasFeature(features, VIRTIO_NET_F_MQ) ? this.queuePairs : 1;
    const queues = new Map(ctx.queues.map((q) => [q.index, q]));
    const states = new Map<number, QueueState>();
    for (const q of ctx.queues) if (q.state !== undefined) states.set(q.index, q.state);
    const at = `${this.id}: tap ${this.tapName}`;
    tapCall(at, 'cannot set offloads', () => this.tap.setOffload(tunOffloadFlags(this.ctrlState.guestOffloads, this.tapOffloads)));
    // The guest starts with one queue pair (virtio 1.2 §5.1.6.5.5): the kernel steers to attached queues only.
    this.setTapQueue(0, true);
    for (let k = 1; k < this.tap.fds.length; k++) this.setTapQueue(k, false);
    this.netState.linkUp = this.linkUp;
    this.netState.writeFilter(this.ctrlState);
    this.publishCoalescing();
    for (let i = 0; i < this.counters.count; i++) this.counters.clearRing(i);

    const threads = new QueuePairThreads({
      nic: this.id,
      tap: { name: this.tapName, fds: this.tap.fds },
      counters: this.counters,
      netState: this.netState,
      rateLimit: this.rateLimit,
      coalescing: this.sharedCoal,
      pool: this.pool,
      mode: this.ioThreads,
      txSqPoll: this.txSqPoll,
      handlers: {
        onCtrlKick: () => this.ctrlWatch?.onKick(),
        onNeedsReset: (reason, queueIndex) => {
          if (act === this.active && !act.stopping) this.events.emit('needs-reset', reason, queueIndex);
        },
      },
    });
    // A fresh activation runs one pair; a restored or resumed one the pairs the guest had set.
    const log = this.dirtyLog;
    if (log !== undefined) await threads.setDirtyLog(log.share());
    const act: Activation = { ctx, queues, states, pairs, threads, wantPairs: this.ctrlState.activePairs, pairOps: new SerialQueue(), stopping: false };
    await this.startThread(act, 0);
    this.active = act;
    if (act.wantPairs > 1) await act.pairOps.run(() => this.applyPairs(act));
  }

  /**
   * Hands the dirty log to the IO threads (over shared memory: the log must be a SharedArrayBuffer
   * view or a mapping with a host address) and waits until each marks into it; undefined stops them.
   */
  protected override async setDataPlaneDirtyLog(log: DirtyLog | undefined): Promise<void> {
    if (log !== undefined && !log.shareable) {
      throw new VirtioNetError(
        'invalid-argument',
        `${this.id}: the dirty log must be a SharedArrayBuffer view or a mapping with a hostAddr: the IO threads write it`,
      );
    }
    await this.active?.threads.setDirtyLog(log?.share());
  }

  protected override async resetDataPlane(): Promise<QueueState[]> {
    const act = this.active;
    this.active = undefined;
    if (act === undefined) return [];
    act.stopping = true;
    await act.pairOps.idle();
    await Promise.all(act.threads.pairs.map(async (k) => this.stopThread(act, k)));
    try {
      this.tap.setOffload(0); // no partially checksummed frame for a guest that did not ask for one
    } catch (e) {
      this.events.emit('warning', `${this.id}: tap ${this.tapName}: cannot clear offloads on reset: ${errorMessage(e)}`);
    }
    return act.ctx.queues.map((q) => act.states.get(q.index) ?? q.state ?? { nextAvail: 0, nextUsed: 0 });
  }

  /**
   * Before a restore onto this device (a live backend switch): starts an idle IO thread now when
   * the pool has none ready (IoThreadPool.prewarm), so the restore does not wait for a thread start.
   */
  prepareRestore(_ctx: PrepareContext): Promise<void> {
    return this.pool.prewarm(`${this.id}: IO thread`);
  }

  protected override async closeBackend(): Promise<void> {
    try {
      // Taps the device created go away with their fds (unless persistent); handed-in fds were
      // duplicated, so this closes the duplicates only.
      this.tap.close();
    } finally {
      // The last device to close takes the idle IO threads with it.
      await this.pool.unretain();
    }
  }

  // ---- control-queue hooks (main thread) --------------------------------------------------------

  protected override onActivePairsChanged(pairs: number): boolean {
    const act = this.active;
    if (act === undefined) return false;
    act.wantPairs = pairs;
    void act.pairOps.run(() => this.applyPairs(act));
    return true;
  }

  protected override onGuestOffloadsChanged(offloads: bigint): boolean {
    tapCall(`${this.id}: tap ${this.tapName}`, 'cannot set offloads', () => this.tap.setOffload(tunOffloadFlags(offloads, this.tapOffloads)));
    return true;
  }

  protected override onRxFilterChanged(): boolean {
    this.netState.writeFilter(this.ctrlState);
    return true;
  }

  protected override onMacChanged(): boolean {
    this.netState.writeFilter(this.ctrlState);
    return true;
  }

  protected override onCoalescingChanged(): boolean {
    this.publishCoalescing();
    this.active?.threads.coalescingChanged(); // at once: held notifications may be due, a timer re-armed
    return true;
  }

  /** Publishes every data queue's parameters to the IO threads (read on their next notification or timer, or when told). */
  private publishCoalescing(): void {
    const guest = this.ctrlState.notfCoal;
    const vmm = this.coalescing;
    this.sharedCoal.publish((vqn) => coalescingFor(guest, vmm, vqn));
  }

  // ---- internals --------------------------------------------------------------------------------

  /** Starts or stops pair threads (and attaches or detaches their tap queues) to match wantPairs. */
  private async applyPairs(act: Activation): Promise<void> {
    for (let k = 1; k < act.pairs; k++) {
      if (act.stopping) return;
      const want = k < act.wantPairs;
      try {
        if (want && !act.threads.has(k)) {
          this.setTapQueue(k, true);
          await this.startThread(act, k);
        } else if (!want && act.threads.has(k)) {
          await this.stopThread(act, k);
          this.setTapQueue(k, false);
        }
      } catch (e) {
        if (act.stopping) return;
        this.events.emit('needs-reset', `${this.id}: queue pair ${k}: ${errorMessage(e)}`, undefined);
        return;
      }
    }
  }

  private async startThread(act: Activation, pair: number): Promise<void> {
    const withState = (index: number): QueueContext | undefined => {
      const q = act.queues.get(index);
      if (q === undefined) return undefined;
      const state = act.states.get(index);
      return state === undefined ? q : { ...q, state };
    };
    const rx = withState(2 * pair);
    const tx = withState(2 * pair + 1);
    const ctrl = pair === 0 ? this.ctrlWatch : undefined;
    await act.threads.start(pair, {
      memory: act.ctx.memory,
      features: act.ctx.features,
      ...(rx === undefined ? {} : { rx }),
      ...(tx === undefined ? {} : { tx }),
      ...(ctrl === undefined ? {} : { ctrlKickFd: ctrl.fd }),
    });
  }

  /** Stops pair `pair`'s thread and records where its queues resume. */
  private async stopThread(act: Activation, pair: number): Promise<void> {
    const got = await act.threads.stop(pair);
    if (got.rx !== undefined) act.states.set(2 * pair, got.rx);
    if (got.tx !== undefined) act.states.set(2 * pair + 1, got.tx);
  }

  private setTapQueue(k: number, on: boolean): void {
    if (this.tap.fds.length < 2 || this.tapQueueOn[k] === on) return;
    tapCall(`${this.id}: tap ${this.tapName} queue ${k}`, on ? 'cannot attach the queue' : 'cannot detach the queue', () => this.tap.setQueueEnabled(k, on));
    this.tapQueueOn[k] = on;
  }
}

/** Runs a tap operation; a SysError becomes a VirtioNetError `tap` naming the NIC and the tap. */
function tapCall<T>(at: string, what: string, op: () => T): T {
  try {
    return op();
  } catch (e) {
    throw new VirtioNetError('tap', `${at}: ${what}: ${errorMessage(e)}`, { cause: e });
  }
}
