import { describe, expect, it } from 'vitest';
import { gcFreedBytes } from './gcFreedBytes.ts';

const gc = (before: number, after: number) => ({
  beforeGC: { heapStatistics: { usedHeapSize: before } },
  afterGC: { heapStatistics: { usedHeapSize: after } },
});

describe('gcFreedBytes', () => {
  it('sums what each collection freed; one that grew the heap counts 0', () => {
    expect(gcFreedBytes([])).toBe(0);
    expect(gcFreedBytes([gc(1000, 400), gc(900, 900), gc(500, 700), gc(2000, 1)])).toBe(600 + 0 + 0 + 1999);
  });
});
