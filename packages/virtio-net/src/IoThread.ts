import type { DirtyLogShare, QueueState } from '@vnic/core';
import { errorMessage } from '@vnic/core';
import type { EventFd } from '@vnic/sys';
import type { IoThreadMode } from './IoThreadMode.ts';
import type { IoWorkerData } from './IoWorkerData.ts';
import type { IoWorkerMessage } from './IoWorkerMessage.ts';
import { IoThreadPool, type PooledThread } from './IoThreadPool.ts';
import { VirtioNetError } from './VirtioNetError.ts';

/** What the device hears from an IO thread. */
export interface IoThreadHandlers {
  /** The control queue was kicked (pair-0 thread). */
  onCtrlKick(): void;
  /** Ring corruption, a dead tap queue, or the thread died: the device must report NEEDS_RESET. */
  onNeedsReset(reason: string, queueIndex: number | undefined): void;
}

/** Ring positions an IO thread hands back when it stops (absent: it died before it could). */
export interface IoThreadStates {
  readonly rx?: QueueState;
  readonly tx?: QueueState;
}

/** How a job ended: the ring positions it handed back, and whether its thread can be reused. */
interface JobEnd {
  readonly states: IoThreadStates;
  readonly reusable: boolean;
}

/** How long stop() waits for the job to end before terminating the thread. */
const STOP_TIMEOUT_MS = 5000;
/** How long a terminated thread may take to exit before it is abandoned (stuck in a native call). */
const TERMINATE_TIMEOUT_MS = 2000;
/** How long setDirtyLog() waits for the thread to switch logs. */
const DIRTY_LOG_TIMEOUT_MS = 5000;
/** How long start() waits for a thread to poll (a new thread loads the bundle first: ~25 ms). */
const START_TIMEOUT_MS = 10_000;

let nextJob = 1;

/**
 * One running queue-pair data plane (a job) on a pooled IO thread (IoThreadPool), seen from the
 * main thread; the thread may serve other pairs, of other NICs, at the same time. `start` places
 * the pair and resolves once the thread polls its fds; `stop` takes it off (every guest buffer
 * handed back, none of its fds in the thread's epoll any more) and gives the place back to the
 * pool; the other pairs of the thread go on. A job that throws is reported through
 * `onNeedsReset` and ends alone; a thread that exits unexpectedly ends every job on it, each
 * reported the same way. Nothing from the thread ever reaches the VMM as an exception. Only a
 * thread that does not answer at all (a start or stop timeout) is terminated, with what it served.
 */
export class IoThread {
  /** Queue pair served. */
  readonly pair: number;
  private readonly thread: PooledThread;
  private readonly pool: IoThreadPool;
  private readonly job: number;
  private readonly done: Promise<JobEnd>;
  private readonly detach: () => void;
  private readonly state: { stopping: boolean };
  /** Waiters of `dirty-log` requests by seq (all run when the job ends: nothing writes a log then). */
  private readonly logAcks: Map<number, () => void>;
  /** Waiters of `heap` requests by seq (given undefined when the job ends). */
  private readonly heapAcks: Map<number, (bytes: number | undefined) => void>;
  private logSeq = 0;
  private stopped: Promise<IoThreadStates> | undefined;

  private constructor(
    pair: number,
    pool: IoThreadPool,
    thread: PooledThread,
    job: number,
    done: Promise<JobEnd>,
    detach: () => void,
    state: { stopping: boolean },
    logAcks: Map<number, () => void>,
    heapAcks: Map<number, (bytes: number | undefined) => void>,
  ) {
    this.logAcks = logAcks;
    this.heapAcks = heapAcks;
    this.pair = pair;
    this.pool = pool;
    this.thread = thread;
    this.job = job;
    this.done = done;
    this.detach = detach;
    this.state = state;
  }

  /** The control eventfd of the thread serving this pair (shared with the thread's other pairs). */
  get control(): EventFd {
    return this.thread.control;
  }

  /**
   * Runs the data plane of `data` on a thread of `pool` (default: the process-wide
   * IoThreadPool.shared), shared with other pairs or (`dedicated`) its own, and waits until it polls.
   */
  static async start(
    data: IoWorkerData,
    handlers: IoThreadHandlers,
    pool: IoThreadPool = IoThreadPool.shared,
    mode: IoThreadMode = 'shared',
  ): Promise<IoThread> {
    const what = `${data.nic}: the IO thread of queue pair ${data.pair}`;
    let thread: PooledThread;
    try {
      thread = await pool.acquire(what, { dedicated: mode === 'dedicated' });
    } catch (e) {
      throw VirtioNetError.is(e) ? e : new VirtioNetError('io-thread', `${what} could not be started: ${errorMessage(e)}`, { cause: e });
    }
    const job = nextJob++;
    const state = { started: false, stopping: false };
    const logAcks = new Map<number, () => void>();
    const heapAcks = new Map<number, (bytes: number | undefined) => void>();

    let onReady: (err?: Error) => void = () => {};
    const ready = new Promise<void>((resolve, reject) => {
      onReady = (err) => (err === undefined ? resolve() : reject(err));
    });
    ready.catch(() => undefined); // a failure after a start timeout must not be an unhandled rejection
    let finished = false;
    let finish: (end: JobEnd) => void = () => {};
    const done = new Promise<JobEnd>((resolve) => {
      finish = (end) => {
        finished = true;
        for (const ack of logAcks.values()) ack();
        logAcks.clear();
        for (const ack of heapAcks.values()) ack(undefined);
        heapAcks.clear();
        resolve(end);
      };
    });
    const fail = (why: string, threadAlive: boolean): void => {
      if (finished) return;
      if (!state.started) onReady(new VirtioNetError('io-thread', `${what} failed to start: ${why}`));
      else if (!state.stopping) handlers.onNeedsReset(`${what} failed: ${why}`, undefined);
      finish({ states: {}, reusable: threadAlive });
    };
    const onMessage = (msg: IoWorkerMessage): void => {
      switch (msg.type) {
        case 'ready':
          onReady();
          break;
        case 'ctrl-kick':
          handlers.onCtrlKick();
          break;
        case 'needs-reset':
          handlers.onNeedsReset(msg.reason, msg.queueIndex);
          break;
        case 'stopped':
          finish({ states: { ...(msg.rx === undefined ? {} : { rx: msg.rx }), ...(msg.tx === undefined ? {} : { tx: msg.tx }) }, reusable: true });
          break;
        case 'fatal':
          fail(msg.message, true); // this pair only: the thread serves the others on
          break;
        case 'dirty-log-set':
          logAcks.get(msg.seq)?.();
          logAcks.delete(msg.seq);
          break;
        case 'heap':
          heapAcks.get(msg.seq)?.(msg.allocatedBytes);
          heapAcks.delete(msg.seq);
          break;
      }
    };
    thread.jobs.set(job, { onMessage, onGone: (why) => fail(why, false) });
    const detach = (): void => {
      thread.jobs.delete(job);
    };

    let timer: NodeJS.Timeout | undefined;
    try {
      if (!thread.send({ type: 'job', job, data })) fail('the thread is gone', false);
      await Promise.race([
        ready,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new VirtioNetError('io-thread', `${what} did not start within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
        }),
      ]);
    } catch (e) {
      let reusable = false;
      if (finished) reusable = (await done).reusable;
      else if (!(await terminateWithin(thread))) {
        // Timed out while starting: the thread does not answer; terminate() lands once it is back in JS.
        detach();
        pool.abandon(thread, `${what} did not start and did not exit after terminate()`);
        throw VirtioNetError.is(e) ? e : new VirtioNetError('io-thread', `${what} could not be started: ${errorMessage(e)}`, { cause: e });
      }
      detach();
      pool.release(thread, reusable);
      throw VirtioNetError.is(e) ? e : new VirtioNetError('io-thread', `${what} could not be started: ${errorMessage(e)}`, { cause: e });
    } finally {
      clearTimeout(timer);
    }
    state.started = true;
    return new IoThread(data.pair, pool, thread, job, done, detach, state, logAcks, heapAcks);
  }

  /**
   * Makes the pair mark every guest page it writes in `log` (undefined: stop marking). Resolves once
   * the thread switched (from its next write on, nothing goes to the old log), or at once when the
   * job has ended; rejects with a VirtioNetError `io-thread` when the thread does not answer.
   */
  async setDirtyLog(log: DirtyLogShare | undefined): Promise<void> {
    if (this.stopped !== undefined) return;
    const seq = ++this.logSeq;
    let timer: NodeJS.Timeout | undefined;
    const acked = new Promise<void>((resolve) => this.logAcks.set(seq, resolve));
    if (!this.thread.send({ type: 'dirty-log', job: this.job, seq, log: log ?? null })) {
      this.logAcks.delete(seq);
      return; // the thread is gone: nothing writes the log
    }
    try {
      await Promise.race([
        acked,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                new VirtioNetError('io-thread', `the IO thread of queue pair ${this.pair} did not switch its dirty log within ${DIRTY_LOG_TIMEOUT_MS} ms`),
              ),
            DIRTY_LOG_TIMEOUT_MS,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
      this.logAcks.delete(seq);
    }
  }

  /**
   * V8 heap bytes the serving thread has allocated so far (IoHeapCounter: the whole thread, every
   * pair it serves; monotonic from the first call, which is the baseline): the difference of two
   * calls is what it allocated between them. Undefined when the job has ended; rejects with a
   * VirtioNetError `io-thread` when the thread does not answer.
   */
  async heapAllocatedBytes(): Promise<number | undefined> {
    if (this.stopped !== undefined) return undefined;
    const seq = ++this.logSeq;
    let timer: NodeJS.Timeout | undefined;
    const answered = new Promise<number | undefined>((resolve) => this.heapAcks.set(seq, resolve));
    if (!this.thread.send({ type: 'heap', job: this.job, seq })) {
      this.heapAcks.delete(seq);
      return undefined;
    }
    try {
      return await Promise.race([
        answered,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new VirtioNetError('io-thread', `the IO thread of queue pair ${this.pair} did not report its heap within ${DIRTY_LOG_TIMEOUT_MS} ms`)),
            DIRTY_LOG_TIMEOUT_MS,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
      this.heapAcks.delete(seq);
    }
  }

  /** Tells the pair that its device published new coalescing parameters (applied at once; no answer). */
  coalescingChanged(): void {
    if (this.stopped === undefined) this.thread.send({ type: 'coalescing', job: this.job });
  }

  /**
   * Stops the job and gives its place on the thread back to the pool. Resolves with the ring
   * positions the loop handed back (empty when the job or its thread had died). Idempotent.
   */
  stop(): Promise<IoThreadStates> {
    this.stopped ??= this.doStop();
    return this.stopped;
  }

  private async doStop(): Promise<IoThreadStates> {
    this.state.stopping = true;
    this.thread.send({ type: 'stop', job: this.job });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      this.done.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), STOP_TIMEOUT_MS);
      }),
    ]);
    clearTimeout(timer);
    if (timedOut && !(await terminateWithin(this.thread))) {
      // Stuck in a native call (e.g. a blocking read on a peer's fd): never wait forever. The
      // control eventfd stays open: the stuck thread may still use its number.
      this.detach();
      this.pool.abandon(this.thread, `queue pair ${this.pair} did not stop within ${STOP_TIMEOUT_MS} ms nor exit after terminate()`);
      return {};
    }
    const { states, reusable } = await this.done;
    this.detach();
    this.pool.release(this.thread, reusable && !timedOut);
    return states;
  }
}

/** terminate() woken out of epoll_wait; true when the thread exited within TERMINATE_TIMEOUT_MS. */
async function terminateWithin(thread: PooledThread): Promise<boolean> {
  const terminated = thread.worker.terminate();
  thread.wake(); // terminate() takes effect when the thread is back in JS
  let timer: NodeJS.Timeout | undefined;
  const exited = await Promise.race([
    terminated.then(() => true),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), TERMINATE_TIMEOUT_MS);
    }),
  ]);
  clearTimeout(timer);
  return exited;
}
