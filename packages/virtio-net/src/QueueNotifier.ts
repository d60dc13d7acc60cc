import { NotifyCoalescer, type DeviceQueue, type GuestMemory } from '@vnic/core';
import { EPOLLIN, TimerFd, type EventFd } from '@vnic/sys';
import type { LoopEpoll } from './LoopEpoll.ts';
import type { QueueCounters } from './QueueCounters.ts';
import type { SharedCoalescing } from './SharedCoalescing.ts';

/** The IO thread's clock for coalescing deadlines, in microseconds (monotonic). */
const nowUs = (): number => performance.now() * 1000;

/**
 * The used-buffer notifications of one data queue of an IO thread (the call eventfd writes),
 * with VIRTIO_NET_F_NOTF_COAL honoured: TxPath and RxPath call `notify` where they would signal;
 * with coalescing off (the default) that is the plain EVENT_IDX-aware check, otherwise a
 * NotifyCoalescer counts the frames (the queue's `packets` counter: split or packed ring alike)
 * completed since the last notification and the guest is
 * signalled once `max_packets` of them are out or `max_usecs` have passed since the first, the
 * latter by a one-shot timerfd in the thread's epoll (kind `timerKind`), so a frame never waits
 * for the next one. The parameters come from the device's SharedCoalescing, looked at (one
 * Atomics.load) on every call and timer expiry, and by `refresh` when the device announces a change. `needsNotification` is asked only when the guest
 * is about to be signalled, so its EVENT_IDX window covers every entry held back.
 */
export class QueueNotifier {
  private readonly coal = new NotifyCoalescer();
  private readonly vqn: number;
  private readonly q: DeviceQueue;
  private readonly c: QueueCounters;
  private readonly call: EventFd;
  private readonly shared: SharedCoalescing | undefined;
  private readonly epoll: LoopEpoll;
  private readonly timerKind: number;
  private timer: TimerFd | undefined;
  private armedFor: number | undefined;
  private version = -1;
  private lastPackets: number;

  constructor(vqn: number, q: DeviceQueue, c: QueueCounters, call: EventFd, shared: SharedCoalescing | undefined, epoll: LoopEpoll, timerKind: number) {
    this.vqn = vqn;
    this.q = q;
    this.c = c;
    this.call = call;
    this.shared = shared;
    this.epoll = epoll;
    this.timerKind = timerKind;
    this.lastPackets = c.packets;
  }

  /** Used entries to publish per step: at most `max_packets` while coalescing (no step outgrows it), else `batch`. */
  step(batch: number): number {
    if (this.coal.off) return batch;
    return Math.max(1, Math.min(batch, this.coal.params.maxPackets));
  }

  /** Used entries were (maybe) published: signal the guest now, or hold the notification back. */
  notify(mem: GuestMemory): void {
    this.refresh(mem);
    const packets = this.c.packets;
    const n = packets - this.lastPackets;
    this.lastPackets = packets;
    if (this.coal.off) {
      if (this.q.needsNotification(mem)) this.call.write(1n);
      return;
    }
    if (this.coal.add(n, nowUs())) this.signal(mem);
    else this.arm();
  }

  /** The timer (epoll kind `timerKind`) fired: signal what is due, or wait for the rest. */
  onTimer(mem: GuestMemory): void {
    this.timer?.read();
    this.armedFor = undefined;
    this.refresh(mem);
    if (this.coal.expire(nowUs())) this.signal(mem);
    else this.arm();
  }

  /** Forgets held entries (the stopping pair signals for them) and closes the timer. Idempotent. */
  close(): void {
    this.coal.clear();
    const t = this.timer;
    this.timer = undefined;
    if (t === undefined) return;
    try {
      this.epoll.remove(t.fd);
    } catch {
      // the epoll is gone already
    }
    t.close();
  }

  private signal(mem: GuestMemory): void {
    if (this.armedFor !== undefined) {
      this.timer?.disarm();
      this.armedFor = undefined;
    }
    if (this.q.needsNotification(mem)) this.call.write(1n);
  }

  /** Arms the timer for the coalescer's deadline when entries are held and it is not armed for it. */
  private arm(): void {
    const d = this.coal.deadline;
    if (d === undefined || d === this.armedFor) return;
    if (this.timer === undefined) {
      const t = TimerFd.create();
      try {
        this.epoll.add(t.fd, EPOLLIN, this.timerKind);
      } catch (e) {
        t.close();
        throw e;
      }
      this.timer = t;
    }
    this.timer.armIn(d - nowUs());
    this.armedFor = d;
  }

  /**
   * Takes new parameters when the device published some (§5.1.6.5.9.4: held entries may be due at
   * once): coalescing turned off or a `max_packets` the held frames reach signals now, a moved
   * deadline re-arms the timer. Run on every notification and timer expiry, and when the device
   * asks (a `coalescing` request: a change takes effect at once, not at the next frame).
   */
  refresh(mem: GuestMemory): void {
    const s = this.shared;
    if (s === undefined) return;
    const v = s.version;
    if (v === this.version || (v & 1) !== 0) return;
    this.version = v;
    if (this.coal.set(s.read(this.vqn), nowUs())) this.signal(mem);
    else this.arm();
  }
}
