import { errorMessage } from '@vnic/core';
import { Epoll, EPOLLIN, EventFd } from '@vnic/sys';
import { IO_WORKER_STOP } from './IO_WORKER_STOP.ts';
import type { IoThreadInit } from './IoThreadInit.ts';
import type { IoWorkerMessage } from './IoWorkerMessage.ts';
import type { IoWorkerRequest } from './IoWorkerRequest.ts';
import type { LoopEpoll } from './LoopEpoll.ts';
import { IdlePoll } from './IdlePoll.ts';
import type { PolledRings } from './PolledRings.ts';
import { IoHeapCounter } from './IoHeapCounter.ts';
import { IO_POLL_MAX_US } from './IO_POLL_MAX_US.ts';
import { EV_CONTROL } from './queuePairConstants.ts';
import { QueuePairLoop } from './QueuePairLoop.ts';
import { rateClockMs } from './rateClockMs.ts';
import type { ThreadBuffers } from './ThreadBuffers.ts';

/** Event kinds per slot in an epoll tag: tag = slot * KINDS + kind (kind < KINDS). */
const KINDS = 8;
/** Events taken per epoll_wait: one per ready fd, over every pair the thread serves. */
const MAX_EVENTS = 64;

/** One pair the thread serves: its job number and its data plane. */
interface Slot {
  readonly job: number;
  readonly loop: QueuePairLoop;
}

/**
 * The loop of one IO thread (ioWorker.ts): ONE blocking epoll over the thread's control eventfd
 * and the fds of every queue pair it serves (each pair a QueuePairLoop in a slot of its own; its
 * fds are tagged with the slot), any number of pairs of any number of NICs. Each wake-up hands
 * the ready events to their pairs and gives each woken (or still pending) pair a turn, bounded by
 * the paths' budgets, so no pair starves the others. Pairs come and go while the loop runs: the
 * main thread posts an IoWorkerRequest and writes the control eventfd; `job` builds the pair and
 * answers `ready`, `stop` takes it out and answers `stopped` with its ring positions; the other
 * pairs are not disturbed. A pair that throws is that pair's alone: it is posted as `fatal` and
 * removed, the others go on. `run` returns when no pair is left (the epoll is closed then) or
 * when IO_WORKER_STOP is set (every pair is stopped first).
 */
export class IoThreadLoop {
  private readonly control: EventFd;
  private readonly command: Int32Array;
  private readonly send: (msg: IoWorkerMessage) => void;
  private readonly receive: () => IoWorkerRequest | undefined;
  private readonly buffers: ThreadBuffers;
  /** Slot s + 1 serves pair slots[s] (tag 0..KINDS-1 is the control eventfd). */
  private readonly slots: (Slot | undefined)[] = [];
  private readonly slotOf = new Map<number, number>();
  private epoll: Epoll | undefined;
  private live = 0;
  /** Polls the epoll for a short, adaptive window before the thread sleeps (IoThreadPoolOptions.pollMaxUs). */
  private readonly idle: IdlePoll;
  /** What the thread allocated on the V8 heap, for `heap` requests (watches collections from the first one on). */
  private readonly heap = new IoHeapCounter();

  /**
   * @param send posts a message to the main thread.
   * @param receive takes the next request the main thread posted, without waiting (receiveMessageOnPort).
   */
  constructor(init: IoThreadInit, send: (msg: IoWorkerMessage) => void, receive: () => IoWorkerRequest | undefined, buffers: ThreadBuffers) {
    this.control = EventFd.fromFd(init.controlFd);
    this.command = new Int32Array(init.command);
    this.send = send;
    this.receive = receive;
    this.buffers = buffers;
    this.idle = new IdlePoll(init.pollMaxUs ?? IO_POLL_MAX_US);
  }

  /** The TX rings of every pair, polled in the IdlePoll window instead of waiting for their kicks. */
  private readonly rings: PolledRings = {
    quiet: () => {
      for (const slot of this.slots) slot?.loop.quiet();
    },
    poll: () => {
      let any = false;
      for (const slot of this.slots) if (slot?.loop.pollRing() === true) any = true;
      return any;
    },
    arm: () => {
      let any = false;
      for (const slot of this.slots) if (slot?.loop.arm() === true) any = true;
      return any;
    },
  };

  /** Pairs served now. */
  get pairs(): number {
    return this.live;
  }

  /** Handles one request (`job`: the pair is built and answers `ready` or `fatal`; `stop`: it stops). */
  handle(req: IoWorkerRequest): void {
    if (req.type === 'job') this.attach(req.job, req);
    else if (req.type === 'dirty-log') this.setDirtyLog(req);
    else if (req.type === 'coalescing') this.applyCoalescing(req.job);
    else if (req.type === 'heap') this.send({ type: 'heap', job: req.job, seq: req.seq, allocatedBytes: this.heap.allocatedBytes() });
    else this.detach(req.job);
  }

  /** Blocks in epoll_wait, serving the pairs, until none is left or IO_WORKER_STOP is set. */
  run(): void {
    try {
      while (this.live > 0) {
        const epoll = this.epoll!;
        const events = this.idle.wait(epoll, MAX_EVENTS, this.anyPending() ? 0 : this.timeoutMs(), this.rings);
        let control = false;
        for (let i = 0; i < events.length; i++) {
          const tag = events[i]!.data;
          const s = Math.floor(tag / KINDS);
          if (s === 0) {
            control = true;
            continue;
          }
          const slot = this.slots[s - 1];
          if (slot === undefined) continue; // a pair that left since epoll_wait returned
          try {
            slot.loop.onEvent(tag % KINDS);
          } catch (e) {
            this.fail(slot.job, e);
          }
        }
        let quick = false;
        for (let s = 0; s < this.slots.length; s++) {
          const slot = this.slots[s];
          if (slot === undefined) continue;
          try {
            if (slot.loop.turn()) quick = true;
          } catch (e) {
            this.fail(slot.job, e); // that pair only: the others get their turn
          }
        }
        if (quick) this.idle.quick();
        if (control && this.onControl()) return;
      }
    } finally {
      if (this.live === 0) this.closeEpoll();
    }
  }

  /** The control eventfd fired: IO_WORKER_STOP (true: return now), then every posted request. */
  private onControl(): boolean {
    this.control.read();
    if ((Atomics.load(this.command, 0) & IO_WORKER_STOP) !== 0) {
      for (const slot of this.slots) if (slot !== undefined) this.detach(slot.job);
      return true;
    }
    for (let req = this.receive(); req !== undefined; req = this.receive()) this.handle(req);
    return false;
  }

  /** epoll_wait's timeout: -1, or until the earliest pair waiting for rate-limit tokens wants its turn. */
  private timeoutMs(): number {
    let at = Infinity;
    for (const slot of this.slots) if (slot !== undefined) at = Math.min(at, slot.loop.wakeAt);
    return at === Infinity ? -1 : Math.max(0, at - rateClockMs());
  }

  private anyPending(): boolean {
    for (const slot of this.slots) if (slot?.loop.pending === true) return true;
    return false;
  }

  private attach(job: number, req: Extract<IoWorkerRequest, { type: 'job' }>): void {
    let s = this.slots.indexOf(undefined);
    if (s < 0) s = this.slots.length;
    const epoll = this.openEpoll();
    const base = (s + 1) * KINDS;
    const view: LoopEpoll = {
      add: (fd, events, kind) => epoll.add(fd, events, base + kind),
      modify: (fd, events, kind) => epoll.modify(fd, events, base + kind),
      remove: (fd) => epoll.remove(fd),
    };
    let loop: QueuePairLoop | undefined;
    try {
      loop = new QueuePairLoop(req.data, (m) => this.send({ ...m, job }), this.buffers, view);
      this.slots[s] = { job, loop };
      this.slotOf.set(job, s);
      this.live++;
      loop.start();
      this.send({ type: 'ready', job });
    } catch (e) {
      this.fail(job, e);
    }
  }

  /** Switches the dirty log of the pair of `job` (between turns: no write of it is in flight) and acknowledges. */
  private setDirtyLog(req: Extract<IoWorkerRequest, { type: 'dirty-log' }>): void {
    const s = this.slotOf.get(req.job);
    const slot = s === undefined ? undefined : this.slots[s];
    try {
      slot?.loop.setDirtyLog(req.log);
    } catch (e) {
      this.fail(req.job, e);
      return;
    }
    this.send({ type: 'dirty-log-set', job: req.job, seq: req.seq });
  }

  /** Makes the pair of `job` apply the coalescing parameters its device published (between turns; no answer). */
  private applyCoalescing(job: number): void {
    const s = this.slotOf.get(job);
    const slot = s === undefined ? undefined : this.slots[s];
    try {
      slot?.loop.applyCoalescing();
    } catch (e) {
      this.fail(job, e);
    }
  }

  /** Stops the pair of `job` and posts `stopped` (an unknown job: it already ended). */
  private detach(job: number): void {
    const slot = this.take(job);
    if (slot === undefined) return;
    let states: ReturnType<QueuePairLoop['stop']>;
    try {
      states = slot.loop.stop();
    } catch (e) {
      this.answer({ type: 'fatal', job, message: describe(e) });
      return;
    }
    this.answer({ type: 'stopped', job, ...states });
  }

  private fail(job: number, e: unknown): void {
    const slot = this.take(job);
    try {
      slot?.loop.close();
    } finally {
      this.answer({ type: 'fatal', job, message: describe(e) });
    }
  }

  /**
   * Posts the end of a job, the epoll closed first when no pair is left: the main thread may
   * terminate this thread as soon as it has the answer.
   */
  private answer(msg: IoWorkerMessage): void {
    if (this.live === 0) this.closeEpoll();
    this.send(msg);
  }

  private take(job: number): Slot | undefined {
    const s = this.slotOf.get(job);
    if (s === undefined) return undefined;
    const slot = this.slots[s];
    this.slotOf.delete(job);
    this.slots[s] = undefined;
    while (this.slots.length > 0 && this.slots.at(-1) === undefined) this.slots.pop();
    this.live--;
    return slot;
  }

  private openEpoll(): Epoll {
    if (this.epoll !== undefined) return this.epoll;
    const epoll = Epoll.create();
    try {
      epoll.add(this.control.fd, EPOLLIN, EV_CONTROL);
    } catch (e) {
      epoll.close();
      throw e;
    }
    this.epoll = epoll;
    return epoll;
  }

  private closeEpoll(): void {
    this.epoll?.close();
    this.epoll = undefined;
  }
}

function describe(e: unknown): string {
  return e instanceof Error ? (e.stack ?? e.message) : errorMessage(e);
}
