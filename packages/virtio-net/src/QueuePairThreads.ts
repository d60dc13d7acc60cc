import type { DirtyLogShare, GuestMemoryLayout, QueueContext, QueueState } from '@vnic/core';
import { IoThread, type IoThreadHandlers, type IoThreadStates } from './IoThread.ts';
import type { IoThreadMode } from './IoThreadMode.ts';
import { IoThreadPool } from './IoThreadPool.ts';
import { ioWorkerFeatures } from './ioWorkerFeatures.ts';
import type { SharedCoalescing } from './SharedCoalescing.ts';
import type { SharedNetState } from './SharedNetState.ts';
import type { SharedQueueCounters } from './SharedQueueCounters.ts';
import type { SharedRateLimit } from './SharedRateLimit.ts';
import { VirtioNetError } from './VirtioNetError.ts';

/** What one NIC's queue-pair threads share: the tap, the counter and state blocks, the pool. */
export interface QueuePairThreadsOptions {
  /** NIC id (or the server's `where`), for messages. */
  readonly nic: string;
  /** The tap: its name for messages, one queue fd per pair. */
  readonly tap: { readonly name: string; readonly fds: readonly number[] };
  readonly counters: SharedQueueCounters;
  readonly netState: SharedNetState;
  /** The NIC's rate limits, shared by all its pairs (absent: never limited). */
  readonly rateLimit?: SharedRateLimit;
  /** Per-queue notification coalescing (absent: off). */
  readonly coalescing?: SharedCoalescing;
  /** Where the threads come from (default: IoThreadPool.shared). */
  readonly pool?: IoThreadPool;
  /** `shared` (default): the pairs share the pool's threads with other NICs; `dedicated`: a thread per pair. */
  readonly mode?: IoThreadMode;
  /** TX rings on the IO thread's kernel SQ thread (VirtioNetOptions.txSqPoll; default false). */
  readonly txSqPoll?: boolean;
  readonly handlers: IoThreadHandlers;
}

/** What starts one pair's data plane. */
export interface QueuePairStart {
  readonly memory: GuestMemoryLayout;
  /** Acked features (EVENT_IDX, INDIRECT_DESC, MRG_RXBUF, GUEST_CSUM follow from them). */
  readonly features: bigint;
  /** receiveq k, absent when not served. */
  readonly rx?: QueueContext;
  /** transmitq k, absent when not served. */
  readonly tx?: QueueContext;
  /** The control queue's kick eventfd, watched by this pair's thread (pair 0 of the in-process device). */
  readonly ctrlKickFd?: number;
}

/**
 * The one IO-thread manager of the in-process data plane: starts and stops the IoThread (the job)
 * of each queue pair of one NIC, on threads of its pool (shared with other NICs' pairs, or one
 * each in the `dedicated` mode). Used by VirtioNetTapDevice and by the
 * vhost-user device server's DataPlaneThreads. `stop` returns where each served ring resumes: the
 * positions the thread handed back, or (a thread that died) the last ones it published in the
 * counters.
 * Tap queue attach/detach stays with the caller (it decides when a pair is wanted).
 */
export class QueuePairThreads {
  readonly #options: QueuePairThreadsOptions;
  readonly #threads = new Map<number, { thread: IoThread; rx: boolean; tx: boolean }>();
  #dirtyLog: DirtyLogShare | undefined;

  constructor(options: QueuePairThreadsOptions) {
    this.#options = options;
  }

  /** True while pair `pair` has a thread. */
  has(pair: number): boolean {
    return this.#threads.has(pair);
  }

  /** The IoThread serving pair `pair`, if any. */
  thread(pair: number): IoThread | undefined {
    return this.#threads.get(pair)?.thread;
  }

  /** Pairs with a thread, ascending. */
  get pairs(): number[] {
    return [...this.#threads.keys()].sort((a, b) => a - b);
  }

  /** Starts pair `pair`'s thread (resolves once it polls). Throws a VirtioNetError `io-thread` (also for a pair that already runs). */
  async start(pair: number, s: QueuePairStart): Promise<void> {
    const o = this.#options;
    if (this.#threads.has(pair)) throw new VirtioNetError('io-thread', `${o.nic}: queue pair ${pair} already has an IO thread`);
    const log = this.#dirtyLog;
    const thread = await IoThread.start(
      {
        nic: o.nic,
        pair,
        tapName: o.tap.name,
        tapFd: o.tap.fds[pair]!,
        memory: s.memory,
        ...(s.rx === undefined ? {} : { rx: s.rx }),
        ...(s.tx === undefined ? {} : { tx: s.tx }),
        ...(s.ctrlKickFd === undefined ? {} : { ctrlKickFd: s.ctrlKickFd }),
        ...(log === undefined ? {} : { dirtyLog: log }),
        counters: o.counters.buffer,
        netState: o.netState.buffer,
        ...(o.rateLimit === undefined ? {} : { rateLimit: o.rateLimit.buffer }),
        ...(o.coalescing === undefined ? {} : { coalescing: o.coalescing.buffer }),
        ...(o.txSqPoll === true ? { txSqPoll: true } : {}),
        ...ioWorkerFeatures(s.features),
      },
      o.handlers,
      o.pool ?? IoThreadPool.shared,
      o.mode ?? 'shared',
    );
    this.#threads.set(pair, { thread, rx: s.rx !== undefined, tx: s.tx !== undefined });
    // setDirtyLog() ran while the thread was starting: it did not see this pair.
    if (this.#dirtyLog !== log) await thread.setDirtyLog(this.#dirtyLog);
  }

  /** V8 heap bytes allocated so far by the thread serving pair `pair` (IoThread.heapAllocatedBytes); undefined without one. */
  async heapAllocatedBytes(pair: number): Promise<number | undefined> {
    return this.#threads.get(pair)?.thread.heapAllocatedBytes();
  }

  /** The dirty log every pair marks its guest writes in (set by setDirtyLog), or undefined. */
  get dirtyLog(): DirtyLogShare | undefined {
    return this.#dirtyLog;
  }

  /**
   * Makes every pair, running and started later, mark the guest pages it writes (RX buffers, used
   * rings) in `log`; undefined stops. Resolves once every running pair switched.
   */
  async setDirtyLog(log: DirtyLogShare | undefined): Promise<void> {
    this.#dirtyLog = log;
    await Promise.all([...this.#threads.values()].map((t) => t.thread.setDirtyLog(log)));
  }

  /** Makes every running pair apply the coalescing parameters just published in `coalescing` (pairs started later read them at start). */
  coalescingChanged(): void {
    for (const t of this.#threads.values()) t.thread.coalescingChanged();
  }

  /** Stops pair `pair`'s thread (none: resolves with `{}`); resolves with where its served rings resume. */
  async stop(pair: number): Promise<IoThreadStates> {
    const cur = this.#threads.get(pair);
    if (cur === undefined) return {};
    this.#threads.delete(pair);
    const got = await cur.thread.stop();
    const resume = (served: boolean, state: QueueState | undefined, index: number): QueueState | undefined =>
      served ? (state ?? this.#options.counters.ring(index)) : undefined;
    const rx = resume(cur.rx, got.rx, 2 * pair);
    const tx = resume(cur.tx, got.tx, 2 * pair + 1);
    return { ...(rx === undefined ? {} : { rx }), ...(tx === undefined ? {} : { tx }) };
  }

  /** Stops every thread at once; resolves with each pair's resume positions. */
  async stopAll(): Promise<Map<number, IoThreadStates>> {
    const pairs = this.pairs;
    const states = await Promise.all(pairs.map((p) => this.stop(p)));
    return new Map(pairs.map((p, i) => [p, states[i]!]));
  }
}
