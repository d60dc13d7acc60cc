import { SplitQueue, type GuestMemory, type QueueContext, type QueueState } from '@vnic/core';
import { Epoll, EPOLLIN, EventFd, guestMemoryFromLayout, SysError } from '@vnic/sys';
import { IO_WORKER_STOP } from './IO_WORKER_STOP.ts';
import type { IoWorkerData } from './IoWorkerData.ts';
import type { IoWorkerMessage } from './IoWorkerMessage.ts';
import type { LoopQueue } from './LoopQueue.ts';
import { EV_CONTROL, EV_CTRL_KICK, EV_RX_KICK, EV_TAP, EV_TAP_WRITABLE, EV_TX_KICK } from './queuePairConstants.ts';
import type { QueuePairHost } from './QueuePairHost.ts';
import { RxPath } from './RxPath.ts';
import { SharedNetState } from './SharedNetState.ts';
import { SharedQueueCounters } from './SharedQueueCounters.ts';
import type { ThreadBuffers } from './ThreadBuffers.ts';
import { TxPath } from './TxPath.ts';

/** An IoWorkerMessage before the worker entry adds its job number. */
type LoopMessage = IoWorkerMessage extends infer M ? (M extends unknown ? Omit<M, 'job'> : never) : never;

/**
 * The data plane of one queue pair, run by its IO thread (ioWorker.ts): a blocking epoll over the
 * RX and TX kick eventfds, the tap queue fd, the control eventfd and (pair 0) the control queue's
 * kick, giving each direction its turn: TxPath drains the TX ring into the tap, RxPath reads
 * frames from the tap into the guest's buffers. The loop owns what both share (the epoll, the
 * counters it publishes, the needs-reset reports, the tap's state). Nothing a guest writes makes it
 * throw; ring corruption and a dead tap queue are posted as `needs-reset`.
 */
export class QueuePairLoop implements QueuePairHost {
  readonly data: IoWorkerData;
  readonly mem: GuestMemory;
  readonly net: SharedNetState;
  readonly tapFd: number;
  readonly epoll: Epoll;
  tapDead = false;
  private readonly post: (msg: LoopMessage) => void;
  private readonly counters: SharedQueueCounters;
  private readonly command: Int32Array;
  private readonly control: EventFd;
  private readonly ctrlKick: EventFd | undefined;
  private readonly rx: RxPath | undefined;
  private readonly tx: TxPath | undefined;

  /** @param buffers the IO thread's buffers (ThreadBuffers), shared by the jobs it runs one after the other. */
  constructor(data: IoWorkerData, post: (msg: LoopMessage) => void, buffers: ThreadBuffers) {
    this.data = data;
    this.post = post;
    this.mem = guestMemoryFromLayout(data.memory);
    this.counters = new SharedQueueCounters(data.counters);
    this.net = new SharedNetState(data.netState);
    this.command = new Int32Array(data.command);
    this.control = EventFd.fromFd(data.controlFd);
    this.ctrlKick = data.ctrlKickFd === undefined ? undefined : EventFd.fromFd(data.ctrlKickFd);
    this.tapFd = data.tapFd;
    this.rx = data.rx === undefined ? undefined : new RxPath(this, this.queue(data.rx), buffers);
    const txQueue = data.tx === undefined ? undefined : this.queue(data.tx);
    this.epoll = Epoll.create();
    try {
      this.epoll.add(data.controlFd, EPOLLIN, EV_CONTROL);
      if (this.rx !== undefined) {
        this.epoll.add(data.rx!.kickFd, EPOLLIN, EV_RX_KICK);
        this.epoll.add(this.tapFd, EPOLLIN, EV_TAP);
      }
      if (txQueue !== undefined) this.epoll.add(data.tx!.kickFd, EPOLLIN, EV_TX_KICK);
      if (data.ctrlKickFd !== undefined) this.epoll.add(data.ctrlKickFd, EPOLLIN, EV_CTRL_KICK);
    } catch (e) {
      this.epoll.close();
      throw e;
    }
    this.tx = txQueue === undefined ? undefined : new TxPath(this, txQueue, buffers);
  }

  /**
   * Polls until the main thread sets IO_WORKER_STOP, then gives held RX buffers back and returns the
   * ring positions to resume from. Blocks the calling thread.
   */
  run(): { rx?: QueueState; tx?: QueueState } {
    const mem = this.mem;
    try {
      for (const a of [this.rx?.queue, this.tx?.queue]) {
        if (a === undefined) continue;
        a.q.validate(mem);
        this.checkBroken(a);
      }
      if (this.rx !== undefined) this.rx.queue.q.disableNotification(mem);
      this.post({ type: 'ready' });
      this.poll();
      return this.finish();
    } finally {
      this.epoll.close();
      this.tx?.close();
    }
  }

  private poll(): void {
    // Buffers may already wait (a resumed ring): look once before sleeping.
    const rx = this.rx;
    const tx = this.tx;
    tx?.serviceTx();
    rx?.serviceRx();
    for (;;) {
      let rxKick = false;
      let txKick = false;
      let tapReady = false;
      let stop = false;
      const events = this.epoll.wait(8, rx?.rxPending === true || tx?.txPending === true ? 0 : -1);
      for (const ev of events) {
        switch (ev.data) {
          case EV_CONTROL:
            this.control.read();
            if ((Atomics.load(this.command, 0) & IO_WORKER_STOP) !== 0) stop = true;
            break;
          case EV_RX_KICK:
            rx?.queue.kick.read();
            rxKick = true;
            break;
          case EV_TX_KICK:
            tx?.queue.kick.read();
            txKick = true;
            break;
          case EV_TAP:
            tapReady = true;
            break;
          case EV_TAP_WRITABLE:
            tx?.onTapWritable();
            break;
          case EV_CTRL_KICK:
            this.ctrlKick?.read();
            this.post({ type: 'ctrl-kick' });
            break;
        }
      }
      if (stop) return;
      if (tapReady && rx !== undefined && rx.rxStalled) {
        // A frame arrived while the guest has no buffer: count it once per stall (the one-shot
        // registration is now disarmed, so the waiting frame cannot make this thread spin).
        tapReady = false;
        rx.queue.c.noBuffer++;
        this.publish(rx.queue);
      }
      if (tx !== undefined && (txKick || tx.txPending)) tx.serviceTx();
      if (rx !== undefined) {
        if (rxKick && rx.rxStalled) rx.resumeTapPolling();
        if (rxKick || tapReady || rx.rxPending) rx.serviceRx();
      }
    }
  }

  // ---- common -----------------------------------------------------------------------------------

  private queue(ctx: QueueContext): LoopQueue {
    const { eventIdx, indirectDesc } = this.data;
    const q = new SplitQueue({ size: ctx.size, descTable: ctx.descTable, availRing: ctx.availRing, usedRing: ctx.usedRing, eventIdx, indirectDesc });
    if (ctx.state !== undefined) q.setState(ctx.state);
    const c = this.counters.read(ctx.index);
    // kick/call fds belong to the VMM: the wrappers are never closed.
    return {
      index: ctx.index,
      q,
      kick: EventFd.fromFd(ctx.kickFd),
      call: EventFd.fromFd(ctx.callFd),
      c,
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
      rx !== undefined && a === rx.queue
        ? { nextAvail: rx.pool.resumePoint(a.q), nextUsed: a.q.nextUsed }
        : tx !== undefined && a === tx.queue
          ? tx.ringState()
          : a.q.getState();
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
      if (!q.needsReset) {
        this.rx.pool.rewind(mem, q);
        if (q.needsNotification(mem)) a.call.write(1n);
      }
      this.syncMalformed(a);
      this.publish(a);
      out.rx = q.getState();
    }
    if (this.tx !== undefined) {
      const a = this.tx.queue;
      if (!a.q.needsReset) {
        this.tx.rewind(); // frames the tap had no room for: the next activation sends them
        if (a.q.needsNotification(mem)) a.call.write(1n);
      }
      this.publish(a);
      out.tx = this.tx.queue.q.getState();
    }
    return out;
  }
}
