import { silentLogger, type Logger } from '@vnic/core';
import { EventFd } from '@vnic/sys';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { IO_WORKER_STOP } from './IO_WORKER_STOP.ts';
import { IO_POLL_MAX_US } from './IO_POLL_MAX_US.ts';
import type { IoThreadInit } from './IoThreadInit.ts';
import type { IoThreadPoolOptions } from './IoThreadPoolOptions.ts';
import type { IoWorkerMessage } from './IoWorkerMessage.ts';
import type { IoWorkerRequest } from './IoWorkerRequest.ts';
import { ioWorkerSource } from './ioWorkerSource.ts';
import { VirtioNetError } from './VirtioNetError.ts';

/** What one job (one queue pair) on a pooled thread hears from it. */
export interface PooledThreadJob {
  /** A message of this job. */
  onMessage(msg: IoWorkerMessage): void;
  /** The thread failed or exited: the job is over. */
  onGone(why: string): void;
}

/** One pooled IO thread: a worker running an IoThreadLoop over the pairs placed on it. */
export interface PooledThread {
  readonly worker: Worker;
  /** Resolves when the thread has exited. */
  readonly exited: Promise<void>;
  /** Resolves once the thread's script is loaded (or it exited, or EXIT_TIMEOUT_MS passed). */
  readonly loaded: Promise<void>;
  dead: boolean;
  /** Queue pairs placed on it (its jobs). */
  pairs: number;
  /** It serves one dedicated pair: no other pair is placed on it. */
  dedicated: boolean;
  /** The thread's control eventfd (closed once the thread has exited). */
  readonly control: EventFd;
  /** The jobs running on it, by job number: the thread's messages, errors and exit go to them. */
  readonly jobs: Map<number, PooledThreadJob>;
  /** Posts a request and wakes the thread's loop; false when the thread is gone. */
  send(req: IoWorkerRequest): boolean;
  /** Sets IO_WORKER_STOP and wakes the loop: it stops every pair and returns to JS, where terminate() lands. */
  wake(): void;
}

/** How long close() and abandoned stops wait for a terminated thread to exit. */
const EXIT_TIMEOUT_MS = 2000;

/**
 * A pool of IO threads (worker_threads running ioWorker.ts), each ONE epoll over the queue pairs
 * placed on it (IoThreadLoop). A `shared` pair goes to a new thread while fewer than `threads`
 * threads serve shared pairs, then to the one serving the fewest; so any number of NICs runs on
 * `threads` threads (default: the core count). A `dedicated` pair gets a thread of its own (idle
 * or new, up to `maxThreads`). Pairs are placed at activation and taken off at reset; adding or
 * removing one never stops the others on its thread. A thread serving no pair waits in its event
 * loop, unref'd (it never keeps the process alive), for the next pair of any device of the pool.
 * `retain` in a device's constructor and `unretain` in its close: when the last device closes,
 * every idle thread is terminated. `close()` (what disposing a container does) stops every
 * thread, busy ones too, with bounded waits.
 *
 * Busy threads block in epoll_wait, where Node cannot stop them. So the pool hooks the process's
 * `exit` event while it has threads: on exit (including after an uncaught exception) it wakes
 * every thread's loop, which returns to JavaScript, where Node's own termination lands; the
 * process exits instead of waiting forever.
 *
 * Why a pool: starting a thread costs ~25 ms and a V8 isolate (megabytes), and koffi 3.3 never
 * frees the per-thread memory it maps on a thread's first native call (a 2 MiB stack, a 1 MiB
 * heap: three mappings), so a thread per activation would leak address space and mappings on
 * every guest reboot, and a thread per pair would cost each NIC an isolate.
 *
 * `VirtioNetTapDevice.open(config)` without a pool uses `IoThreadPool.shared` (process-wide);
 * a container binds one under IO_THREAD_POOL and closes it when disposed.
 */
export class IoThreadPool {
  readonly #idle: PooledThread[] = [];
  readonly #all = new Set<PooledThread>();
  readonly #threads: number;
  readonly #maxIdle: number;
  readonly #maxThreads: number;
  readonly #logger: Logger;
  #users = 0;
  #started = 0;
  #jobs = 0;
  #closed = false;
  #exitHooked = false;
  readonly #pollMaxUs: number;
  readonly #onExit = (): void => {
    for (const t of this.#all) t.wake();
  };

  static #shared: IoThreadPool | undefined;

  constructor(options: IoThreadPoolOptions = {}) {
    const threads = options.threads ?? availableParallelism();
    const maxIdle = options.maxIdle ?? 16;
    const maxThreads = options.maxThreads ?? 256;
    const pollMaxUs = options.pollMaxUs ?? IO_POLL_MAX_US;
    if (!Number.isFinite(pollMaxUs) || pollMaxUs < 0)
      throw new VirtioNetError('invalid-argument', `IoThreadPool: pollMaxUs must be a number >= 0 (microseconds), got ${pollMaxUs}`);
    this.#pollMaxUs = pollMaxUs;
    if (!Number.isInteger(maxIdle) || maxIdle < 0)
      throw new VirtioNetError('invalid-argument', `IoThreadPool: maxIdle must be an integer >= 0, got ${maxIdle}`);
    if (!Number.isInteger(threads) || threads < 1)
      throw new VirtioNetError('invalid-argument', `IoThreadPool: threads must be an integer >= 1, got ${threads}`);
    if (!Number.isInteger(maxThreads) || maxThreads < 1)
      throw new VirtioNetError('invalid-argument', `IoThreadPool: maxThreads must be an integer >= 1, got ${maxThreads}`);
    this.#threads = Math.min(threads, maxThreads);
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

  /** Most threads serving shared pairs (IoThreadPoolOptions.threads, at most maxThreads). */
  get threads(): number {
    return this.#threads;
  }
  /** Pairs placed on each live thread (a thread serving none is idle). */
  get pairsPerThread(): number[] {
    return [...this.#all].filter((t) => !t.dead).map((t) => t.pairs);
  }
  /** Threads started by this pool (each one costs koffi's three mappings for good). */
  get started(): number {
    return this.#started;
  }
  /** Jobs (queue-pair activations) this pool has placed on a thread. */
  get jobs(): number {
    return this.#jobs;
  }
  /** Threads alive (busy or idle). */
  get size(): number {
    return this.#all.size;
  }
  /** Idle threads (serving no pair) waiting for one. */
  get idleCount(): number {
    return this.#idle.length;
  }
  /** Threads serving at least one pair. */
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

  /**
   * Places one queue pair: on a shared thread (a new one while fewer than `threads` serve shared
   * pairs, else the one serving the fewest), or with `dedicated` on a thread of its own (idle or
   * new). `what` names the pair in errors and logs. Give it back with `release`.
   */
  async acquire(what = 'an IO thread', options: { readonly dedicated?: boolean } = {}): Promise<PooledThread> {
    const source = await ioWorkerSource();
    // From here on synchronous: concurrent activations see each other's placements.
    if (this.#closed) throw new VirtioNetError('io-thread', `${what}: the IO-thread pool is closed`);
    const dedicated = options.dedicated === true;
    const shared: PooledThread[] = [];
    if (!dedicated) for (const t of this.#all) if (!t.dead && !t.dedicated && t.pairs > 0) shared.push(t);
    let thread: PooledThread | undefined;
    if (dedicated || shared.length < this.#threads) thread = this.#takeIdle() ?? (this.#all.size < this.#maxThreads ? this.#start(source, what) : undefined);
    if (thread === undefined && shared.length > 0) thread = shared.reduce((a, b) => (b.pairs < a.pairs ? b : a));
    if (thread === undefined) {
      throw new VirtioNetError('io-thread', `${what}: the IO-thread pool is at its cap of ${this.#maxThreads} threads (IoThreadPoolOptions.maxThreads)`);
    }
    if (thread.pairs === 0) thread.worker.ref();
    thread.pairs++;
    thread.dedicated = dedicated;
    this.#jobs++;
    return thread;
  }

  /**
   * Makes sure an idle thread is ready for the next placement: when none is idle (and the pool is
   * open, retained by a device and below maxThreads) starts one and resolves once its script is
   * loaded (bounded by EXIT_TIMEOUT_MS), so an activation that follows soon (a live backend switch
   * onto this backend) does not wait for a thread start. The thread is idle (unref'd) like any
   * other: the last device's close terminates it.
   */
  async prewarm(what = 'an IO thread'): Promise<void> {
    const source = await ioWorkerSource();
    if (this.#closed || this.#users === 0 || this.#idle.some((t) => !t.dead) || this.#all.size >= this.#maxThreads) return;
    const thread = this.#start(source, `${what} (prewarmed)`);
    thread.worker.unref();
    this.#idle.push(thread);
    await thread.loaded;
  }

  /**
   * Takes one pair back from `thread` after its job ended. A thread serving no pair any more goes
   * idle (or is terminated: over maxIdle, no device open, pool closed); `reusable` false (it did
   * not answer) terminates it now, and with it whatever else it served.
   */
  release(thread: PooledThread, reusable: boolean): void {
    thread.pairs = Math.max(0, thread.pairs - 1);
    if (thread.dead) return;
    if (!reusable) {
      this.#kill(thread);
      return;
    }
    if (thread.pairs > 0) return;
    thread.dedicated = false;
    if (this.#closed || this.#idle.length >= this.#maxIdle || this.#users === 0) {
      this.#kill(thread);
      return;
    }
    thread.worker.unref();
    this.#idle.push(thread);
  }

  #takeIdle(): PooledThread | undefined {
    for (let t = this.#idle.pop(); t !== undefined; t = this.#idle.pop()) if (!t.dead) return t;
    return undefined;
  }

  #start(source: Awaited<ReturnType<typeof ioWorkerSource>>, what: string): PooledThread {
    const control = EventFd.create({ nonBlocking: true });
    const commandBuffer = new SharedArrayBuffer(4);
    const command = new Int32Array(commandBuffer);
    const init: IoThreadInit = { controlFd: control.fd, command: commandBuffer, pollMaxUs: this.#pollMaxUs };
    let worker: Worker;
    try {
      worker = new Worker(source.filename, { eval: source.eval, name: 'vnic-io', workerData: init });
    } catch (e) {
      control.close();
      throw e;
    }
    this.#started++;
    let abandoned = false;
    const jobs = new Map<number, PooledThreadJob>();
    let onLoaded = (): void => {};
    const loaded = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, EXIT_TIMEOUT_MS);
      timer.unref();
      onLoaded = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    const thread: PooledThread = {
      worker,
      dead: false,
      pairs: 0,
      dedicated: false,
      control,
      jobs,
      loaded,
      send: (req) => {
        if (thread.dead || control.closed) return false;
        worker.postMessage(req);
        control.write(1n);
        return true;
      },
      wake: () => {
        Atomics.or(command, 0, IO_WORKER_STOP);
        if (!control.closed) control.write(1n);
      },
      exited: new Promise<void>((resolve) => {
        worker.once('exit', (code) => {
          thread.dead = true;
          abandoned = !this.#all.has(thread); // abandon() forgot it: a stuck thread may still use the fd
          this.#all.delete(thread);
          const i = this.#idle.indexOf(thread);
          if (i >= 0) this.#idle.splice(i, 1);
          // Only now: the loop no longer waits on the eventfd (a closed fd number could be reused).
          if (!abandoned) control.close();
          onLoaded();
          for (const job of [...jobs.values()]) job.onGone(`the thread exited unexpectedly (code ${code})`);
          if (this.#all.size === 0) this.#unhookExit();
          resolve();
        });
      }),
    };
    worker.on('message', (msg: IoWorkerMessage) => {
      if (msg.type === 'loaded') onLoaded();
      else jobs.get(msg.job)?.onMessage(msg);
    });
    // A failing thread is reported to the jobs it serves; an idle one is simply dropped.
    worker.on('error', (e: unknown) => {
      thread.dead = true;
      for (const job of [...jobs.values()]) job.onGone(e instanceof Error ? e.message : String(e));
    });
    this.#all.add(thread);
    this.#hookExit();
    this.#logger.debug({ threads: this.#all.size, started: this.#started }, `vnic: started ${what}`);
    return thread;
  }

  #kill(thread: PooledThread): void {
    thread.dead = true;
    void thread.worker.terminate();
    thread.wake(); // terminate() lands once the thread is back in JS
  }

  /**
   * Gives up on a thread stuck in a native call that neither its stop nor terminate() ended: it is
   * unref'd (it no longer keeps the process alive) and forgotten. Logged as an error.
   */
  abandon(thread: PooledThread, why: string): void {
    thread.dead = true;
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
    t.wake(); // terminate() lands once the thread is back in JS: wake it from epoll_wait
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
