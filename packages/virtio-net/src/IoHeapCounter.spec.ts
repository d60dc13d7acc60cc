import { describe, expect, it } from 'vitest';
import { IoHeapCounter } from './IoHeapCounter.ts';

describe('IoHeapCounter', () => {
  it('counts what the thread allocated between two calls, across collections', () => {
    const counter = new IoHeapCounter();
    try {
      const keep: unknown[] = [];
      const a0 = counter.allocatedBytes();
      // 20000 arrays of 1000 doubles: at least 160 MB allocated, most of it collected meanwhile.
      for (let i = 0; i < 20_000; i++) {
        const x = new Array<number>(1000).fill(i + 0.5);
        if (i % 1000 === 0) keep.push(x);
      }
      const a1 = counter.allocatedBytes();
      expect(keep).toHaveLength(20);
      expect(a1 - a0).toBeGreaterThan(160e6);
      expect(a1 - a0).toBeLessThan(400e6);
      // Nothing allocated in between (but the profiler's own few objects): next to nothing counted.
      const b0 = counter.allocatedBytes();
      const b1 = counter.allocatedBytes();
      expect(b1 - b0).toBeLessThan(64 * 1024);
    } finally {
      counter.close();
    }
  });
});
