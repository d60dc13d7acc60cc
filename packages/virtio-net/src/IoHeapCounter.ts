import { GCProfiler, getHeapStatistics } from 'node:v8';
import { gcFreedBytes, type GcRecord } from './gcFreedBytes.ts';

/**
 * V8 heap bytes allocated by this thread (Node 20 has no allocation counter): `allocatedBytes()`
 * is the used heap now plus every byte the collections since the first call freed (see
 * gcFreedBytes), so the difference of two calls is what the thread allocated between them. A
 * v8.GCProfiler records the collections from the first call on (nothing is watched before: no
 * cost to a thread nobody asks). A collection in the few instructions between one call's
 * reading and its new profiler's start is missed (an undercount of at most that collection).
 */
export class IoHeapCounter {
  #profiler: GCProfiler | undefined;
  #freed = 0;

  /** Allocated bytes so far (monotonic from the first call; the first call's value is the baseline). */
  allocatedBytes(): number {
    const done = this.#profiler?.stop() as { statistics?: readonly GcRecord[] } | undefined;
    if (done?.statistics !== undefined) this.#freed += gcFreedBytes(done.statistics);
    const used = getHeapStatistics().used_heap_size;
    this.#profiler = new GCProfiler();
    this.#profiler.start();
    return used + this.#freed;
  }

  /** Stops recording collections. */
  close(): void {
    this.#profiler?.stop();
    this.#profiler = undefined;
  }
}
