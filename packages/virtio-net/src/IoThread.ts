import type { QueueState } from '@vnic/core';
import { EventFd } from '@vnic/sys';
import { IO_WORKER_STOP } from './IO_WORKER_STOP.ts';
import type { IoWorkerData } from './IoWorkerData.ts';
import type { IoWorkerJob } from './IoWorkerJob.ts';
import type { IoWorkerMessage } from './IoWorkerMessage.ts';
import { IoThreadPool } from './IoThreadPool.ts';
import { VirtioNetError } from './VirtioNetError.ts';
import { errorMessage } from '@vnic/core';

/** What the device hears from an IO thread. */
interface IoThreadHandlers {
  /** The control queue was kicked (pair-0 thread). */
  onCtrlKick(): void;
  /** Ring corruption, a dead tap queue, or the thread died: the device must report NEEDS_RESET. */
  onNeedsReset(reason: string, queueIndex: number | undefined): void;
}

/** Ring positions an IO thread hands back when it stops (absent: it died before it could). */
interface IoThreadStates {
  readonly rx?: QueueState;
  readonly tx?: QueueState;
}

/** How a job ended: the ring positions it handed back, and whether its thread can be reused. */
interface JobEnd {
  readonly states: IoThreadStates;
  readonly reusable: boolean;
}

type PooledThread = Awaited<ReturnType<typeof IoThreadPool.acquire>>;

/** How long stop() waits for the job to end before terminating the thread. */
const STOP_TIMEOUT_MS = 5000;
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
  private readonly control: EventFd;
  private readonly command: Int32Array;
  private readonly done: Promise<JobEnd>;
  private readonly detach: () => void;
  private readonly state: { stopping: boolean };
  private stopped: Promise<IoThreadStates> | undefined;

  private constructor(pair: number, thread: PooledThread, control: EventFd, command: Int32Array, done: Promise<JobEnd>, detach: () => void, state: { stopping: boolean }) {
    this.pair = pair;
    this.thread = thread;
    this.control = control;
    this.command = command;
    this.done = done;
    this.detach = detach;
    this.state = state;
  }

  /** Runs the data plane of `data` (controlFd and command are added here) and waits until it polls. */
  static async start(data: Omit<IoWorkerData, 'controlFd' | 'command'>, handlers: IoThreadHandlers): Promise<IoThread> {
    const what = `${data.nic}: the IO thread of queue pair ${data.pair}`;
    let thread: PooledThread;
    try {
      thread = await IoThreadPool.acquire();
    } catch (e) {
      throw VirtioNetError.is(e) ? e : new VirtioNetError('io-thread', `${what} could not be started: ${errorMessage(e)}`, { cause: e });
    }
    const worker = thread.worker;
    const control = EventFd.create({ nonBlocking: true });
    const commandBuffer = new SharedArrayBuffer(4);
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
        const terminated = worker.terminate();
        control.write(1n);
        await terminated;
      }
      detach();
      control.close();
      IoThreadPool.release(thread, false);
      throw VirtioNetError.is(e) ? e : new VirtioNetError('io-thread', `${what} could not be started: ${errorMessage(e)}`, { cause: e });
    } finally {
      clearTimeout(timer);
    }
    state.started = true;
    return new IoThread(data.pair, thread, control, new Int32Array(commandBuffer), done, detach, state);
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
    if (timedOut) {
      // terminate() takes effect when the thread is back in JS: wake it from epoll_wait once more.
      const terminated = this.thread.worker.terminate();
      this.control.write(1n);
      await terminated;
    }
    const { states, reusable } = await this.done;
    this.detach();
    // Only now: the loop no longer waits on the eventfd (a closed fd number could be reused).
    this.control.close();
    IoThreadPool.release(this.thread, reusable && !timedOut);
    return states;
  }
}
