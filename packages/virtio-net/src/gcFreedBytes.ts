/** One entry of `v8.GCProfiler#stop()`'s `statistics`: the heap before and after one garbage collection. */
export interface GcRecord {
  readonly beforeGC: { readonly heapStatistics: { readonly usedHeapSize: number } };
  readonly afterGC: { readonly heapStatistics: { readonly usedHeapSize: number } };
}

/**
 * Bytes the garbage collections of `records` freed: the sum over them of used heap before less
 * used heap after (a collection that grew the used heap, as a promotion into a fresh page can
 * look, counts 0). With it, what a thread allocated between two instants t0 < t1 is
 * `used(t1) - used(t0) + freed(t0..t1)`: the used heap only grows by allocation and only shrinks
 * by collection.
 */
export function gcFreedBytes(records: readonly GcRecord[]): number {
  let freed = 0;
  for (const r of records) freed += Math.max(0, r.beforeGC.heapStatistics.usedHeapSize - r.afterGC.heapStatistics.usedHeapSize);
  return freed;
}
