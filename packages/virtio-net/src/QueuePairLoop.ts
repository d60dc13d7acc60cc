import { AvailPoll, DirtyLog, type DirtyLogShare, type GuestMemory, type QueueContext, type QueueState } from '@vnic/core';
import { EPOLLIN, EventFd, guestMemoryFromLayout, SysError, viewHostMemory } from '@vnic/sys';
import type { IoWorkerData } from './IoWorkerData.ts';
import type { IoWorkerMessage } from './IoWorkerMessage.ts';
import type { LoopEpoll } from './LoopEpoll.ts';
import { loopDeviceQueue } from './loopDeviceQueue.ts';
import type { LoopQueue } from './LoopQueue.ts';
import { EV_CTRL_KICK, EV_RX_COAL_TIMER, EV_RX_KICK, EV_TAP, EV_TAP_WRITABLE, EV_TX_COAL_TIMER, EV_TX_KICK } from './queuePairConstants.ts';
import { QueueNotifier } from './QueueNotifier.ts';
import type { QueuePairHost } from './QueuePairHost.ts';
import { RxAfterTx } from './RxAfterTx.ts';
import { RxPath } from './RxPath.ts';
import { SharedCoalescing } from './SharedCoalescing.ts';
import { SharedNetState } from './SharedNetState.ts';
import { SharedQueueCounters } from './SharedQueueCounters.ts';
import { SharedRateLimit } from './SharedRateLimit.ts';
import { rateClockMs } from './rateClockMs.ts';
import type { ThreadBuffers } from './ThreadBuffers.ts';
import { TxPath } from './TxPath.ts';

/** An IoWorkerMessage before the thread's loop adds the job number. */
export type LoopMessage = IoWorkerMessage extends infer M ? (M extends unknown ? Omit<M, 'job'> : never) : never;

/**
 * The data plane of one queue pair, one of the pairs an IO thread's IoThreadLoop serves: its RX
 * and TX kick eventfds, its tap queue fd and (pair 0) the control queue's kick are registered in
 * the thread's epoll (through `epoll`, the pair's slot of it); the thread hands each event to
 * `onEvent` and then gives the pair its `turn`: TxPath drains the TX ring into the tap, RxPath
 * reads frames from the tap into the guest's buffers. The loop owns what both share (the
 * counters it publishes, the needs-reset reports, the tap's state). Nothing a guest writes makes
 * it throw; ring corruption and a dead tap queue are posted as `needs-reset`.
 */
export class QueuePairLoop implements QueuePairHost {
  readonly data: IoWorkerData;
  readonly mem: GuestMemory;
  readonly net: SharedNetState;
  readonly tapFd: number;
  readonly epoll: LoopEpoll;
  readonly rateLimit: SharedRateLimit | undefined;
  tapDead = false;
  private readonly post: (msg: LoopMessage) => void;
  private readonly counters: SharedQueueCounters;
  private readonly coalescing: SharedCoalescing | undefined;
  private readonly ctrlKick: EventFd | undefined;
  private readonly rx: RxPath | undefined;
  private readonly tx: TxPath | undefined;
  /** The fds registered in the thread's epoll (unregistered by close()). */
  private readonly watched: number[] = [];
  private rxKick = false;
  private txKick = false;
  private tapReady = false;
  private closed = false;
  /** The TX ring, polled while the thread polls before sleeping (no TX kicks meanwhile). */
  private readonly txPoll: AvailPoll | undefined;
  /** When RX is read right after a TX step (a reply the tap holds already), backing off on misses. */
  private readonly rxAfterTx = new RxAfterTx();

  /**
   * Builds the pair and registers its fds in `epoll` (undone when a registration fails).
   * @param buffers the IO thread's buffers (ThreadBuffers), shared by every pair the thread serves:
   *   a pair uses them only within its turn.
   */
  constructor(data: IoWorkerData, post: (msg: LoopMessage) => void, buffers: ThreadBuffers, epoll: LoopEpoll) {
    this.data = data;
    this.post = post;
    this.mem = guestMemoryFromLayout(data.memory);
    this.counters = new SharedQueueCounters(data.counters);
    this.net = new SharedNetState(data.netState);
    this.coalescing = data.coalescing === undefined ? undefined : new SharedCoalescing(0, data.coalescing);
    this.ctrlKick = data.ctrlKickFd === undefined ? undefined : EventFd.fromFd(data.ctrlKickFd);
    this.tapFd = data.tapFd;
    this.epoll = epoll;
    this.rateLimit = data.rateLimit === undefined ? undefined : new SharedRateLimit(data.rateLimit);
    this.rx = data.rx === undefined ? undefined : new RxPath(this, this.queue(data.rx), buffers);
    const txQueue = data.tx === undefined ? undefined : this.queue(data.tx);
    try {
      if (this.rx !== undefined) {
        this.watch(data.rx!.kickFd, EV_RX_KICK);
        this.watch(this.tapFd, EV_TAP);
      }
      if (txQueue !== undefined) this.watch(data.tx!.kickFd, EV_TX_KICK);
      if (data.ctrlKickFd !== undefined) this.watch(data.ctrlKickFd, EV_CTRL_KICK);
    } catch (e) {
      this.unwatch();
      this.rx?.close();
      throw e;
    }
    this.tx = txQueue === undefined ? undefined : new TxPath(this, txQueue, buffers);
    this.txPoll = txQueue === undefined ? undefined : new AvailPoll(txQueue.q);
    if (data.dirtyLog !== undefined) this.setDirtyLog(data.dirtyLog);
  }

  /** Marks every guest page the pair writes (RX buffers, both used rings) in `share`'s log from now on; null stops. */
  setDirtyLog(share: DirtyLogShare | null): void {
    const log = share === null ? null : DirtyLog.fromShare(share, viewHostMemory);
    if (this.rx !== undefined) {
      this.rx.dirtyLog = log;
      this.rx.queue.q.dirtyLog = log;
    }
    if (this.tx !== undefined) this.tx.queue.q.dirtyLog = log;
  }

  /** Takes the coalescing parameters the device just published, for both queues (QueueNotifier.refresh). */
  applyCoalescing(): void {
    this.rx?.queue.notifier.refresh(this.mem);
    this.tx?.queue.notifier.refresh(this.mem);
  }

  /** True when a direction ran out of its turn's budget: the thread comes back without sleeping. */
  get pending(): boolean {
    return this.rx?.rxPending === true || this.tx?.txPending === true;
  }

  /** When a direction waiting for rate-limit tokens wants a turn (rateClockMs), or Infinity. */
  get wakeAt(): number {
    const rx = this.rx?.rateGate;
    const tx = this.tx?.rateGate;
    return Math.min(rx?.throttled === true ? rx.wakeAt : Infinity, tx?.throttled === true ? tx.wakeAt : Infinity);
  }

  /** Checks the rings, then takes a first turn: buffers may already wait (a resumed ring). */
  start(): void {
    const mem = this.mem;
    for (const a of [this.rx?.queue, this.tx?.queue]) {
      if (a === undefined) continue;
      a.q.validate(mem);
      this.checkBroken(a);
    }
    if (this.rx !== undefined) this.rx.queue.q.disableNotification(mem);
    this.tx?.serviceTx();
    this.rx?.serviceRx();
  }

  /**
   * The thread starts polling before it sleeps: the TX ring is polled from now on instead of the
   * guest kicking (AvailPoll), unless TX is waiting for something else (a full tap, rate-limit
   * tokens, its budget, a kick already read) or the pair is stopped.
   */
  quiet(): void {
    const tx = this.tx;
    if (tx === undefined || this.closed || this.txKick || tx.holdsKicks) return;
    this.txPoll!.quiet(this.mem);
  }

  /** True when the guest made TX buffers available while the thread polled: the next turn serves them (kicks stay off). */
  pollRing(): boolean {
    if (this.txPoll?.poll(this.mem) !== true) return false;
    this.txKick = true;
    return true;
  }

  /** The thread stops polling: TX kicks are asked for again; true when buffers arrived meanwhile (served as after a kick). */
  arm(): boolean {
    if (this.txPoll?.arm(this.mem) !== true) return false;
    this.txKick = true;
    return true;
  }

  /** One of this pair's fds is ready (`kind`: its EV_* tag); the work waits for `turn()`. */
  onEvent(kind: number): void {
    switch (kind) {
      case EV_RX_KICK:
        this.rx?.queue.kick.read();
        this.rxKick = true;
        break;
      case EV_TX_KICK:
        this.tx?.queue.kick.read();
        this.txKick = true;
        break;
      case EV_TAP:
        this.tapReady = true;
        break;
      case EV_TAP_WRITABLE:
        this.tx?.onTapWritable();
        break;
      case EV_CTRL_KICK:
        this.ctrlKick?.read();
        this.post({ type: 'ctrl-kick' });
        break;
      case EV_RX_COAL_TIMER:
        this.rx?.queue.notifier.onTimer(this.mem);
        break;
      case EV_TX_COAL_TIMER:
        this.tx?.queue.notifier.onTimer(this.mem);
        break;
    }
  }

  /**
   * Serves what the events since the last turn asked for (and what is pending). Returns true when
   * RX, tried right after a TX step, found a frame: work that came without a wait (IdlePoll.quick).
   */
  turn(): boolean {
    const rx = this.rx;
    const tx = this.tx;
    let tapReady = this.tapReady;
    const rxKick = this.rxKick;
    const txKick = this.txKick;
    this.tapReady = false;
    this.rxKick = false;
    this.txKick = false;
    if (tapReady && rx !== undefined && rx.rxStalled && !rxKick) {
      // A frame arrived while the guest has no buffer: count it once per stall (the one-shot
      // registration is now disarmed, so the waiting frame cannot make this thread spin). With
      // the RX kick in the same turn the guest has posted buffers meanwhile: not a noBuffer.
      tapReady = false;
      rx.queue.c.noBuffer++;
      this.publish(rx.queue);
    }
    const now = this.rateLimit === undefined ? 0 : rateClockMs();
    let sent = false;
    if (tx !== undefined && (txKick || tx.txPending || tx.rateGate?.due(now) === true)) {
      const before = tx.queue.c.packets;
      const polled = this.txPoll!.active;
      tx.serviceTx(polled);
      if (polled && tx.holdsKicks) this.txPoll!.release(); // TX keeps kicks off until its own reason ends
      sent = tx.queue.c.packets !== before;
    }
    if (rx !== undefined) {
      if (rxKick && rx.rxStalled) rx.resumeTapPolling();
      if (rxKick || tapReady || rx.rxPending || rx.rateGate?.due(now) === true) rx.serviceRx();
      else if (sent && !rx.rxStalled && this.rxAfterTx.due()) {
        // Frames just went to the tap: a reply may be readable already (see RxAfterTx).
        const before = rx.queue.c.packets;
        rx.serviceRx(true);
        const got = rx.queue.c.packets !== before;
        this.rxAfterTx.result(got);
        return got;
      }
    }
    return false;
  }

  /**
   * Stops the pair: gives held RX buffers back, publishes the counters and returns the ring
   * positions to resume from; then close().
   */
  stop(): { rx?: QueueState; tx?: QueueState } {
    try {
      return this.finish();
    } finally {
      this.close();
    }
  }

  /** Unregisters the pair's fds from the thread's epoll and releases what it holds. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unwatch();
    this.tx?.close();
    this.rx?.close();
    this.rx?.queue.notifier.close();
    this.tx?.queue.notifier.close();
  }

  private watch(fd: number, kind: number): void {
    this.epoll.add(fd, EPOLLIN, kind);
    this.watched.push(fd);
  }

  private unwatch(): void {
    for (const fd of this.watched.splice(0)) {
      try {
        this.epoll.remove(fd);
      } catch {
        // Already gone (the VMM closed a kick fd): the kernel dropped the registration itself.
      }
    }
  }

  // ---- common -----------------------------------------------------------------------------------

  private queue(ctx: QueueContext): LoopQueue {
    const q = loopDeviceQueue(ctx, this.data);
    const c = this.counters.read(ctx.index);
    // kick/call fds belong to the VMM: the wrappers are never closed.
    const call = EventFd.fromFd(ctx.callFd);
    const timerKind = ctx.index % 2 === 0 ? EV_RX_COAL_TIMER : EV_TX_COAL_TIMER;
    return {
      index: ctx.index,
      q,
      kick: EventFd.fromFd(ctx.kickFd),
      call,
      c,
      notifier: new QueueNotifier(ctx.index, q, c, call, this.coalescing, this.epoll, timerKind),
      malformedBase: c.malformed,
      unusable: 0,
      reported: false,
    };
  }

  /** Brings the queue's malformed counter up to date. */
  syncMalformed(a: LoopQueue): void {
    a.c.malformed = a.malformedBase + a.q.malformed + a.unusable;
  }

  /** Publishes the queue's counters and ring position (RX: as if the held chains were rewound). */
  publish(a: LoopQueue): void {
    const rx = this.rx;
    const tx = this.tx;
    const ring: QueueState =
      rx !== undefined && a === rx.queue ? rx.pool.resumePoint(a.q) : tx !== undefined && a === tx.queue ? tx.ringState() : a.q.getState();
    this.counters.publish(a.index, a.c, ring);
  }

  /** Posts `needs-reset` once when the queue's ring is corrupt; true when it is. */
  checkBroken(a: LoopQueue): boolean {
    if (!a.q.needsReset) return false;
    if (!a.reported) {
      a.reported = true;
      this.publish(a);
      this.post({ type: 'needs-reset', queueIndex: a.index, reason: `${this.data.nic}: queue ${a.index}: ${a.q.brokenReason}` });
    }
    return true;
  }

  /**
   * A tap I/O error. Failures of the queue itself (EBADFD: detached, ENODEV/ENXIO: the interface is
   * gone, anything unexpected) stop the tap side for good and post `needs-reset`. Per-frame
   * rejections are drops and the tap goes on: EINVAL (a GSO header the kernel refuses), EIO (the
   * interface is down: tun refuses writes until it is up again, checked on a real tap), ENOBUFS,
   * ENOMEM, EMSGSIZE.
   */
  tapError(e: unknown, call: string, queueIndex: number): void {
    const code = SysError.is(e) ? e.code : undefined;
    if (code === 'EINVAL' || code === 'EIO' || code === 'ENOBUFS' || code === 'ENOMEM' || code === 'EMSGSIZE') return;
    if (this.tapDead) return;
    this.tapDead = true;
    if (this.rx !== undefined) this.epoll.modify(this.tapFd, 0, EV_TAP);
    const why = e instanceof Error ? e.message : String(e);
    this.post({ type: 'needs-reset', queueIndex, reason: `${this.data.nic}: tap ${this.data.tapName} queue ${this.data.pair}: ${call}: ${why}` });
  }

  private finish(): { rx?: QueueState; tx?: QueueState } {
    const mem = this.mem;
    const out: { rx?: QueueState; tx?: QueueState } = {};
    if (this.rx !== undefined) {
      const a = this.rx.queue;
      const q = a.q;
      let backlog: Uint8Array[] = [];
      if (!q.needsReset) {
        backlog = this.rx.flushAtStop(); // nothing read from the tap is lost: delivered now, or carried in the state
        this.rx.pool.rewind(mem, q);
        if (q.needsNotification(mem)) a.call.write(1n);
      }
      this.syncMalformed(a);
      this.publish(a);
      out.rx = backlog.length === 0 ? q.getState() : { ...q.getState(), rxBacklog: backlog };
    }
    if (this.tx !== undefined) {
      const a = this.tx.queue;
      if (!a.q.needsReset) {
        this.txPoll!.arm(mem); // kicks back on, as the thread leaves a polled ring before it sleeps
        this.tx.rewind(); // frames the tap had no room for: the next activation sends them
        if (a.q.needsNotification(mem)) a.call.write(1n);
      }
      this.publish(a);
      out.tx = this.tx.queue.q.getState();
    }
    return out;
  }
}
