import {
  type ActivateContext,
  errorMessage,
  formatConfigIssues,
  type GuestMemory,
  hasFeature,
  NetDeviceBase,
  type NetDeviceConfig,
  offeredQueuePairs,
  type QueueContext,
  type QueueState,
  type QueueStats,
  SplitQueue,
  splitQueueFor,
  VnicError,
} from '@vnic/core';
import { VIRTIO_NET_F_MQ } from '@vnic/core/virtio_net';
import { EventFd, guestMemoryFromLayout, openNetTap, SysError, tapBackendFeatures, tunOffloadFlags, type NetTap, type Tap } from '@vnic/sys';
import { IoThread } from './IoThread.ts';
import { ioWorkerFeatures } from './ioWorkerFeatures.ts';
import { IoThreadPool } from './IoThreadPool.ts';
import { SharedNetState } from './SharedNetState.ts';
import { SharedQueueCounters } from './SharedQueueCounters.ts';
import { validateVirtioNetOptions } from './validateVirtioNetOptions.ts';
import { VirtioNetError } from './VirtioNetError.ts';
import type { VirtioNetOptions } from './VirtioNetOptions.ts';

interface CtrlQueue {
  readonly index: number;
  readonly q: SplitQueue;
  readonly call: EventFd;
  reported: boolean;
}

/** One activation of the data plane (DRIVER_OK until reset). */
interface Activation {
  readonly ctx: ActivateContext;
  readonly mem: GuestMemory;
  readonly queues: ReadonlyMap<number, QueueContext>;
  /** Ring positions to resume each queue from (updated when a pair's thread stops). */
  readonly states: Map<number, QueueState>;
  readonly pairs: number;
  readonly ctrl: CtrlQueue | undefined;
  readonly threads: (IoThread | undefined)[];
  /** Queue pairs the driver wants (VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET); 1 at activation. */
  wantPairs: number;
  /** Thread starts/stops for VQ_PAIRS_SET, in order. */
  pairOps: Promise<void>;
  stopping: boolean;
}

/**
 * The in-process virtio-net backend: a NetDeviceBase whose data plane is one IO thread
 * (worker_threads) per queue pair over a multiqueue tap (IFF_TAP|IFF_NO_PI|IFF_VNET_HDR, a
 * 12-byte virtio_net_hdr, one tap queue per pair). Each thread blocks in epoll over its RX and TX
 * kick eventfds, its tap queue and a control eventfd, and moves frames between the rings and the
 * tap with readv/writev straight from and into guest memory. The control queue is served on the
 * main thread (the pair-0 thread watches its kick and posts a message). Offloads follow what the
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
  private active: Activation | undefined;
  private ctrlIndex: number | undefined;
  private ctrlMalformedBase = 0;
  private ctrlMalformedLive: SplitQueue | undefined;
  private tapQueueOn: boolean[];

  private constructor(config: NetDeviceConfig, tap: Tap, tapOffloads: number) {
    super(config, tapBackendFeatures(tapOffloads));
    this.tap = tap;
    this.tapName = tap.name;
    this.tapOffloads = tapOffloads;
    this.counters = new SharedQueueCounters(this.numQueues);
    this.tapQueueOn = tap.fds.map(() => true);
    IoThreadPool.retain();
  }

  /**
   * Opens (or attaches to) the tap of `config.options` (`VirtioNetOptions`), sets the 12-byte
   * vnet header, probes its offloads, sets the MTU from `config.mtu` on a tap it opened, and
   * builds the device. Throws a VirtioNetError (kind `unavailable` when /dev/net/tun is missing or
   * not permitted, `invalid-argument` for a bad section or fds, `tap` otherwise) naming the NIC,
   * the tap and the failing call.
   */
  static open(config: NetDeviceConfig): VirtioNetTapDevice {
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
      return new VirtioNetTapDevice(config, opened.tap, opened.offloads);
    } catch (e) {
      opened.tap.close();
      throw e;
    }
  }

  /**
   * Per-queue counters, index order, read from the IO threads' shared counters without any
   * message; the control queue's row counts its commands as packets.
   */
  override stats(): QueueStats[] {
    const rows: QueueStats[] = [];
    for (let index = 0; index < this.numQueues; index++) {
      const c = this.counters.read(index);
      if (index === this.ctrlIndex) {
        const ctrl = this.ctrlCounters;
        const live = this.ctrlMalformedLive?.malformed ?? 0;
        rows.push({ index, ...c, packets: ctrl.commands, malformed: ctrl.malformed + this.ctrlMalformedBase + live });
      } else {
        rows.push({ index, ...c });
      }
    }
    return rows;
  }

  /** Changes the link state; while it is down both directions drop frames (counted in `drops`). */
  override setLinkUp(up: boolean): void {
    super.setLinkUp(up);
    this.netState.linkUp = this.linkUp;
  }

  // ---- life cycle -------------------------------------------------------------------------------

  protected override async activateDataPlane(ctx: ActivateContext): Promise<void> {
    const features = ctx.features;
    const mem = guestMemoryFromLayout(ctx.memory);
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
    for (let i = 0; i < this.counters.count; i++) this.counters.clearRing(i);

    const ctrlIndex = this.ctrlQueueIndex;
    const cq = ctrlIndex === undefined ? undefined : queues.get(ctrlIndex);
    let ctrl: CtrlQueue | undefined;
    if (ctrlIndex !== undefined && cq !== undefined) {
      const q = splitQueueFor(cq, features, mem);
      // The call fd belongs to the VMM: the wrapper is never closed.
      ctrl = { index: ctrlIndex, q, call: EventFd.fromFd(cq.callFd), reported: false };
    }
    const act: Activation = { ctx, mem, queues, states, pairs, ctrl, threads: [], wantPairs: 1, pairOps: Promise.resolve(), stopping: false };
    act.threads[0] = await this.startThread(act, 0);
    this.ctrlIndex = ctrlIndex;
    this.ctrlMalformedLive = ctrl?.q;
    this.active = act;
    if (ctrl !== undefined && ctrl.q.needsReset) this.reportCtrlBroken(ctrl);
  }

  protected override async resetDataPlane(): Promise<QueueState[]> {
    const act = this.active;
    this.active = undefined;
    if (act === undefined) return [];
    act.stopping = true;
    await act.pairOps;
    await Promise.all(act.threads.map(async (t, k) => (t === undefined ? undefined : this.stopThread(act, k))));
    if (act.ctrl !== undefined) {
      act.states.set(act.ctrl.index, act.ctrl.q.getState());
      this.ctrlMalformedBase += act.ctrl.q.malformed;
      this.ctrlMalformedLive = undefined;
    }
    try {
      this.tap.setOffload(0); // no partially checksummed frame for a guest that did not ask for one
    } catch (e) {
      this.events.emit('warning', `${this.id}: tap ${this.tapName}: cannot clear offloads on reset: ${errorMessage(e)}`);
    }
    return act.ctx.queues.map((q) => act.states.get(q.index) ?? q.state ?? { nextAvail: 0, nextUsed: 0 });
  }

  protected override async closeBackend(): Promise<void> {
    try {
      // Taps the device created go away with their fds (unless persistent); handed-in fds were
      // duplicated, so this closes the duplicates only.
      this.tap.close();
    } finally {
      // The last device to close takes the idle IO threads with it.
      await IoThreadPool.unretain();
    }
  }

  // ---- control-queue hooks (main thread) --------------------------------------------------------

  protected override onActivePairsChanged(pairs: number): boolean {
    const act = this.active;
    if (act === undefined) return false;
    act.wantPairs = pairs;
    act.pairOps = act.pairOps.then(() => this.applyPairs(act));
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

  // ---- internals --------------------------------------------------------------------------------

  private serviceCtrl(act: Activation): void {
    const ctrl = act.ctrl;
    if (act !== this.active || ctrl === undefined || ctrl.q.needsReset) return;
    const { mem } = act;
    do {
      if (this.processControlQueue(mem, ctrl.q)) ctrl.call.write(1n);
    } while (ctrl.q.enableNotification(mem));
    if (ctrl.q.needsReset) this.reportCtrlBroken(ctrl);
  }

  private reportCtrlBroken(ctrl: CtrlQueue): void {
    if (ctrl.reported) return;
    ctrl.reported = true;
    this.events.emit('needs-reset', `${this.id}: queue ${ctrl.index}: ${ctrl.q.brokenReason}`, ctrl.index);
  }

  /** Starts or stops pair threads (and attaches or detaches their tap queues) to match wantPairs. */
  private async applyPairs(act: Activation): Promise<void> {
    for (let k = 1; k < act.pairs; k++) {
      if (act.stopping) return;
      const want = k < act.wantPairs;
      try {
        if (want && act.threads[k] === undefined) {
          this.setTapQueue(k, true);
          act.threads[k] = await this.startThread(act, k);
        } else if (!want && act.threads[k] !== undefined) {
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

  private async startThread(act: Activation, pair: number): Promise<IoThread> {
    const withState = (index: number): QueueContext | undefined => {
      const q = act.queues.get(index);
      if (q === undefined) return undefined;
      const state = act.states.get(index);
      return state === undefined ? q : { ...q, state };
    };
    const rx = withState(2 * pair);
    const tx = withState(2 * pair + 1);
    const f = act.ctx.features;
    return IoThread.start(
      {
        nic: this.id,
        pair,
        tapName: this.tapName,
        tapFd: this.tap.fds[pair]!,
        memory: act.ctx.memory,
        ...(rx === undefined ? {} : { rx }),
        ...(tx === undefined ? {} : { tx }),
        ...(pair === 0 && act.ctrl !== undefined ? { ctrlKickFd: act.queues.get(act.ctrl.index)!.kickFd } : {}),
        counters: this.counters.buffer,
        netState: this.netState.buffer,
        ...ioWorkerFeatures(f),
      },
      {
        onCtrlKick: () => this.serviceCtrl(act),
        onNeedsReset: (reason, queueIndex) => {
          if (act === this.active && !act.stopping) this.events.emit('needs-reset', reason, queueIndex);
        },
      },
    );
  }

  /** Stops pair `pair`'s thread and records where its queues resume. */
  private async stopThread(act: Activation, pair: number): Promise<void> {
    const t = act.threads[pair];
    if (t === undefined) return;
    act.threads[pair] = undefined;
    const got = await t.stop();
    for (const [index, state] of [
      [2 * pair, got.rx],
      [2 * pair + 1, got.tx],
    ] as const) {
      if (!act.queues.has(index)) continue;
      const s = state ?? this.counters.ring(index);
      if (s !== undefined) act.states.set(index, s);
    }
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
