import type { QueueState } from '@vnic/core';
import { errorMessage } from '@vnic/core';
import { EventFd } from '@vnic/sys';
import { IO_WORKER_STOP } from './IO_WORKER_STOP.ts';
import type { IoWorkerData } from './IoWorkerData.ts';
import type { IoWorkerJob } from './IoWorkerJob.ts';
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
/** How long start() waits for a thread to poll (a new thread loads the bundle first: ~25 ms). */
const START_TIMEOUT_MS = 10_000;

let nextJob = 1;

/**
 * One running queue-pair data plane on a pooled IO thread (IoThreadPool), seen from the main
 * thread. It owns the job's control eventfd. `start` resolves once the thread polls; `stop` sets
 * IO_WORKER_STOP, wakes the thread through the eventfd, waits until the loop has returned (every
 * guest buffer handed back, no fd of the job in use any more) and gives the thread back to the
 * pool. A job that throws or a thread that exits unexpectedly is reported through `onNeedsReset`;
 * nothing from the thread ever reaches the VMM as an exception.
 */
export class IoThread {
  /** Queue pair served. */
  readonly pair: number;
  private readonly thread: PooledThread;
  private readonly pool: IoThreadPool;
  private readonly control: EventFd;
  private readonly command: Int32Array;
  private readonly done: Promise<JobEnd>;
  private readonly detach: () => void;
  private readonly state: { stopping: boolean };
  private stopped: Promise<IoThreadStates> | undefined;

  private constructor(
    pair: number,
    pool: IoThreadPool,
    thread: PooledThread,
    control: EventFd,
    command: Int32Array,
    done: Promise<JobEnd>,
    detach: () => void,
    state: { stopping: boolean },
  ) {
    this.pair = pair;
    this.pool = pool;
    this.thread = thread;
    this.control = control;
    this.command = command;
    this.done = done;
    this.detach = detach;
    this.state = state;
  }

  /**
   * Runs the data plane of `data` (controlFd and command are added here) on a thread of `pool`
   * (default: the process-wide IoThreadPool.shared) and waits until it polls.
   */
  static async start(
    data: Omit<IoWorkerData, 'controlFd' | 'command'>,
    handlers: IoThreadHandlers,
    pool: IoThreadPool = IoThreadPool.shared,
  ): Promise<IoThread> {
    const what = `${data.nic}: the IO thread of queue pair ${data.pair}`;
    let thread: PooledThread;
    try {
      thread = await pool.acquire(what);
    } catch (e) {
      throw VirtioNetError.is(e) ? e : new VirtioNetError('io-thread', `${what} could not be started: ${errorMessage(e)}`, { cause: e });
    }
    const worker = thread.worker;
    const control = EventFd.create({ nonBlocking: true });
    const commandBuffer = new SharedArrayBuffer(4);
    const command = new Int32Array(commandBuffer);
    // What the pool calls on process exit or close: the loop returns to JS, where terminate() lands.
    thread.wake = () => {
      Atomics.or(command, 0, IO_WORKER_STOP);
      control.write(1n);
    };
    const job = nextJob++;
    const state = { started: false, stopping: false };

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
        resolve(end);
      };
    });
    const fail = (why: string): void => {
      if (!state.started) onReady(new VirtioNetError('io-thread', `${what} failed to start: ${why}`));
      else if (!state.stopping) handlers.onNeedsReset(`${what} failed: ${why}`, undefined);
      finish({ states: {}, reusable: false });
    };
    const onMessage = (msg: IoWorkerMessage): void => {
      if (msg.job !== job) return;
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
          fail(msg.message);
          break;
      }
    };
    const onError = (e: unknown): void => fail(errorMessage(e));
    const onExit = (code: number): void => fail(`the thread exited unexpectedly (code ${code})`);
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
    const detach = (): void => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };

    const jobMessage: IoWorkerJob = { type: 'job', job, data: { ...data, controlFd: control.fd, command: commandBuffer } };
    let timer: NodeJS.Timeout | undefined;
    try {
      worker.postMessage(jobMessage);
      await Promise.race([
        ready,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new VirtioNetError('io-thread', `${what} did not start within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
        }),
      ]);
    } catch (e) {
      if (!finished) {
        // Timed out while starting: stop it the hard way; terminate() lands once it is back in JS.
        if (!(await terminateWithin(thread))) {
          detach();
          pool.abandon(thread, `${what} did not start and did not exit after terminate()`);
          throw VirtioNetError.is(e) ? e : new VirtioNetError('io-thread', `${what} could not be started: ${errorMessage(e)}`, { cause: e });
        }
      }
      detach();
      control.close();
      pool.release(thread, false);
      throw VirtioNetError.is(e) ? e : new VirtioNetError('io-thread', `${what} could not be started: ${errorMessage(e)}`, { cause: e });
    } finally {
      clearTimeout(timer);
    }
    state.started = true;
    return new IoThread(data.pair, pool, thread, control, command, done, detach, state);
  }

  /**
   * Stops the job and gives the thread back to the pool. Resolves with the ring positions the loop
   * handed back (empty when the thread had died). Idempotent.
   */
  stop(): Promise<IoThreadStates> {
    this.stopped ??= this.doStop();
    return this.stopped;
  }

  private async doStop(): Promise<IoThreadStates> {
    this.state.stopping = true;
    Atomics.or(this.command, 0, IO_WORKER_STOP);
    this.control.write(1n);
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
    // Only now: the loop no longer waits on the eventfd (a closed fd number could be reused).
    this.control.close();
    this.pool.release(this.thread, reusable && !timedOut);
    return states;
  }
}

/** terminate() woken out of epoll_wait; true when the thread exited within TERMINATE_TIMEOUT_MS. */
async function terminateWithin(thread: PooledThread): Promise<boolean> {
  const terminated = thread.worker.terminate();
  thread.wake?.(); // terminate() takes effect when the thread is back in JS
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
