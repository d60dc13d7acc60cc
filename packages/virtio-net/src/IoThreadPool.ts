import { Worker } from 'node:worker_threads';
import { ioWorkerSource } from './ioWorkerSource.ts';

/** One pooled IO thread. */
interface PooledThread {
  readonly worker: Worker;
  /** Resolves when the thread has exited. */
  readonly exited: Promise<void>;
  dead: boolean;
}

/** Idle IO threads kept for reuse; more are terminated when they become idle. */
const MAX_IDLE = 16;

/**
 * The process-wide pool of IO threads (worker_threads running ioWorker.ts). A device takes a
 * thread per active queue pair at activation and gives it back at reset; idle threads wait in
 * their event loop, unref'd (they never keep the process alive), and are reused by the next
 * activation of any device. The pool lives while at least one device is open (`retain` in the
 * device's constructor, `unretain` in its close): when the last device closes, every idle thread
 * is terminated, so closing all devices leaves no thread and no fd behind.
 *
 * Why a pool: starting a thread costs ~25 ms, and koffi 3.3 never frees the per-thread memory it
 * maps on a thread's first native call (a 2 MiB stack, a 1 MiB heap: three mappings), so a thread
 * per activation would leak address space and mappings on every guest reboot (measured: ~3
 * /proc/self/maps lines per thread). With the pool, threads are started only when more queue
 * pairs are active at once than ever since the pool was last emptied.
 */
export class IoThreadPool {
  private static readonly idle: PooledThread[] = [];
  private static readonly all = new Set<PooledThread>();
  private static users = 0;
  private static startedCount = 0;

  /** Threads started since the process began (each one costs koffi's three mappings for good). */
  static get started(): number {
    return IoThreadPool.startedCount;
  }

  /** A device opened: keep idle threads for it. */
  static retain(): void {
    IoThreadPool.users++;
  }

  /** A device closed: when it was the last one, terminate the idle threads (resolves when they are gone). */
  static async unretain(): Promise<void> {
    IoThreadPool.users = Math.max(0, IoThreadPool.users - 1);
    if (IoThreadPool.users === 0) await IoThreadPool.shutdown();
  }

  /** Threads alive (busy or idle). */
  static get size(): number {
    return IoThreadPool.all.size;
  }

  /** Idle threads waiting for a job. */
  static get idleCount(): number {
    return IoThreadPool.idle.length;
  }

  /** An idle thread (ref'd again), or a new one. */
  static async acquire(): Promise<PooledThread> {
    for (let t = IoThreadPool.idle.pop(); t !== undefined; t = IoThreadPool.idle.pop()) {
      if (t.dead) continue;
      t.worker.ref();
      return t;
    }
    const source = await ioWorkerSource();
    const worker = new Worker(source.filename, { eval: source.eval, name: 'vnic-io' });
    IoThreadPool.startedCount++;
    const thread: PooledThread = {
      worker,
      dead: false,
      exited: new Promise<void>((resolve) => {
        worker.once('exit', () => {
          thread.dead = true;
          IoThreadPool.all.delete(thread);
          const i = IoThreadPool.idle.indexOf(thread);
          if (i >= 0) IoThreadPool.idle.splice(i, 1);
          resolve();
        });
      }),
    };
    // A failing thread is reported to the job that uses it; an idle one is simply dropped.
    worker.on('error', () => {
      thread.dead = true;
    });
    IoThreadPool.all.add(thread);
    return thread;
  }

  /** Takes a thread back after its job stopped; a thread that failed is terminated instead. */
  static release(thread: PooledThread, reusable: boolean): void {
    if (thread.dead) return;
    if (!reusable || IoThreadPool.idle.length >= MAX_IDLE || IoThreadPool.users === 0) {
      thread.dead = true;
      void thread.worker.terminate();
      return;
    }
    thread.worker.unref();
    IoThreadPool.idle.push(thread);
  }

  /**
   * Terminates every idle thread and waits for them to exit (busy threads belong to active
   * devices: reset or close those first).
   */
  static async shutdown(): Promise<void> {
    const idle = IoThreadPool.idle.splice(0);
    await Promise.all(
      idle.map(async (t) => {
        t.dead = true;
        await t.worker.terminate();
        await t.exited;
      }),
    );
  }
}
