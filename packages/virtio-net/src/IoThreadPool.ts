import { silentLogger, type Logger } from '@vnic/core';
import { Worker } from 'node:worker_threads';
import { ioWorkerSource } from './ioWorkerSource.ts';
import type { IoThreadPoolOptions } from './IoThreadPoolOptions.ts';
import { VirtioNetError } from './VirtioNetError.ts';

/** One pooled IO thread. */
export interface PooledThread {
  readonly worker: Worker;
  /** Resolves when the thread has exited. */
  readonly exited: Promise<void>;
  dead: boolean;
  /** Set by the job running on it: asks the job's loop to return (sets its stop bit, writes its control eventfd). */
  wake: (() => void) | undefined;
}

/** How long close() and abandoned stops wait for a terminated thread to exit. */
const EXIT_TIMEOUT_MS = 2000;

/**
 * A pool of IO threads (worker_threads running ioWorker.ts). A device takes a thread per active
 * queue pair at activation and gives it back at reset; idle threads wait in their event loop,
 * unref'd (they never keep the process alive), and are reused by the next activation of any
 * device of the pool. `retain` in a device's constructor and `unretain` in its close: when the
 * last device closes, every idle thread is terminated. `close()` (what disposing a container
 * does) stops every thread, busy ones too, with bounded waits.
 *
 * Busy threads block in epoll_wait, where Node cannot stop them. So the pool hooks the process's
 * `exit` event while it has threads: on exit (including after an uncaught exception) it wakes
 * every busy thread's loop, which returns to JavaScript, where Node's own termination lands; the
 * process exits instead of waiting forever.
 *
 * Why a pool: starting a thread costs ~25 ms, and koffi 3.3 never frees the per-thread memory it
 * maps on a thread's first native call (a 2 MiB stack, a 1 MiB heap: three mappings), so a thread
 * per activation would leak address space and mappings on every guest reboot. With the pool,
 * threads are started only when more queue pairs are active at once than ever before.
 *
 * `VirtioNetTapDevice.open(config)` without a pool uses `IoThreadPool.shared` (process-wide);
 * a container binds one under IO_THREAD_POOL and closes it when disposed.
 */
export class IoThreadPool {
  readonly #idle: PooledThread[] = [];
  readonly #all = new Set<PooledThread>();
  readonly #maxIdle: number;
  readonly #maxThreads: number;
  readonly #logger: Logger;
  #users = 0;
  #started = 0;
  #jobs = 0;
  #closed = false;
  #exitHooked = false;
  readonly #onExit = (): void => {
    for (const t of this.#all) t.wake?.();
  };

  static #shared: IoThreadPool | undefined;

  constructor(options: IoThreadPoolOptions = {}) {
    const maxIdle = options.maxIdle ?? 16;
    const maxThreads = options.maxThreads ?? 256;
    if (!Number.isInteger(maxIdle) || maxIdle < 0)
      throw new VirtioNetError('invalid-argument', `IoThreadPool: maxIdle must be an integer >= 0, got ${maxIdle}`);
    if (!Number.isInteger(maxThreads) || maxThreads < 1)
      throw new VirtioNetError('invalid-argument', `IoThreadPool: maxThreads must be an integer >= 1, got ${maxThreads}`);
    this.#maxIdle = maxIdle;
    this.#maxThreads = maxThreads;
    this.#logger = options.logger ?? silentLogger;
  }

  /** The process-wide default pool (devices opened without a pool of their own). */
  static get shared(): IoThreadPool {
    IoThreadPool.#shared ??= new IoThreadPool();
    return IoThreadPool.#shared;
  }

  /** The shared pool's `started` (kept for callers of the former static pool). */
  static get started(): number {
    return IoThreadPool.shared.started;
  }
  /** The shared pool's `size`. */
  static get size(): number {
    return IoThreadPool.shared.size;
  }
  /** The shared pool's `idleCount`. */
  static get idleCount(): number {
    return IoThreadPool.shared.idleCount;
  }
  /** `retain()` on the shared pool. */
  static retain(): void {
    IoThreadPool.shared.retain();
  }
  /** `unretain()` on the shared pool. */
  static unretain(): Promise<void> {
    return IoThreadPool.shared.unretain();
  }
  /** `shutdown()` on the shared pool. */
  static shutdown(): Promise<void> {
    return IoThreadPool.shared.shutdown();
  }

  /** Threads started by this pool (each one costs koffi's three mappings for good). */
  get started(): number {
    return this.#started;
  }
  /** Jobs (queue-pair activations) this pool has handed a thread to. */
  get jobs(): number {
    return this.#jobs;
  }
  /** Threads alive (busy or idle). */
  get size(): number {
    return this.#all.size;
  }
  /** Idle threads waiting for a job. */
  get idleCount(): number {
    return this.#idle.length;
  }
  /** Threads running a job. */
  get busyCount(): number {
    return this.#all.size - this.#idle.length;
  }
  /** True once close() was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** A device opened: keep idle threads for it. */
  retain(): void {
    this.#users++;
  }

  /** A device closed: when it was the last one, terminate the idle threads (resolves when they are gone). */
  async unretain(): Promise<void> {
    this.#users = Math.max(0, this.#users - 1);
    if (this.#users === 0) await this.shutdown();
  }

  /** An idle thread (ref'd again), or a new one; `what` names the job in errors and logs. */
  async acquire(what = 'an IO thread'): Promise<PooledThread> {
    if (this.#closed) throw new VirtioNetError('io-thread', `${what}: the IO-thread pool is closed`);
    for (let t = this.#idle.pop(); t !== undefined; t = this.#idle.pop()) {
      if (t.dead) continue;
      t.worker.ref();
      this.#jobs++;
      return t;
    }
    if (this.#all.size >= this.#maxThreads) {
      throw new VirtioNetError('io-thread', `${what}: the IO-thread pool is at its cap of ${this.#maxThreads} threads (IoThreadPoolOptions.maxThreads)`);
    }
    const source = await ioWorkerSource();
    const worker = new Worker(source.filename, { eval: source.eval, name: 'vnic-io' });
    this.#started++;
    this.#jobs++;
    const thread: PooledThread = {
      worker,
      dead: false,
      wake: undefined,
      exited: new Promise<void>((resolve) => {
        worker.once('exit', () => {
          thread.dead = true;
          this.#all.delete(thread);
          const i = this.#idle.indexOf(thread);
          if (i >= 0) this.#idle.splice(i, 1);
          if (this.#all.size === 0) this.#unhookExit();
          resolve();
        });
      }),
    };
    // A failing thread is reported to the job that uses it; an idle one is simply dropped.
    worker.on('error', () => {
      thread.dead = true;
    });
    this.#all.add(thread);
    this.#hookExit();
    this.#logger.debug({ threads: this.#all.size, started: this.#started }, `vnic: started ${what}`);
    return thread;
  }

  /** Takes a thread back after its job stopped; a thread that failed is terminated instead. */
  release(thread: PooledThread, reusable: boolean): void {
    thread.wake = undefined;
    if (thread.dead) return;
    if (!reusable || this.#closed || this.#idle.length >= this.#maxIdle || this.#users === 0) {
      thread.dead = true;
      void thread.worker.terminate();
      return;
    }
    thread.worker.unref();
    this.#idle.push(thread);
  }

  /**
   * Gives up on a thread stuck in a native call that neither its stop nor terminate() ended: it is
   * unref'd (it no longer keeps the process alive) and forgotten. Logged as an error.
   */
  abandon(thread: PooledThread, why: string): void {
    thread.dead = true;
    thread.wake = undefined;
    thread.worker.unref();
    this.#all.delete(thread);
    if (this.#all.size === 0) this.#unhookExit();
    this.#logger.error({ threadId: thread.worker.threadId }, `vnic: abandoned an IO thread: ${why}`);
  }

  /**
   * Terminates every idle thread and waits for them to exit (busy threads belong to active
   * devices: reset or close those first, or close() the pool).
   */
  async shutdown(): Promise<void> {
    const idle = this.#idle.splice(0);
    await Promise.all(idle.map((t) => this.#terminate(t)));
  }

  /**
   * Closes the pool: no more threads; every thread, busy ones too, is woken and terminated, each
   * wait bounded (a thread that does not exit is abandoned). Idempotent.
   */
  async close(): Promise<void> {
    this.#closed = true;
    this.#idle.splice(0);
    await Promise.all([...this.#all].map((t) => this.#terminate(t)));
    this.#unhookExit();
  }

  async #terminate(t: PooledThread): Promise<void> {
    t.dead = true;
    const terminated = t.worker.terminate();
    t.wake?.(); // terminate() lands once the thread is back in JS: wake it from epoll_wait
    let timer: NodeJS.Timeout | undefined;
    const exited = await Promise.race([
      Promise.all([terminated, t.exited]).then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), EXIT_TIMEOUT_MS);
      }),
    ]);
    clearTimeout(timer);
    if (!exited) this.abandon(t, `it did not exit within ${EXIT_TIMEOUT_MS} ms of terminate()`);
  }

  #hookExit(): void {
    if (this.#exitHooked) return;
    this.#exitHooked = true;
    process.on('exit', this.#onExit);
  }

  #unhookExit(): void {
    if (!this.#exitHooked) return;
    this.#exitHooked = false;
    process.off('exit', this.#onExit);
  }
}
