import { describe, expect, it } from 'vitest';
import { summarizeRounds } from './summarizeRounds.ts';

describe('summarizeRounds', () => {
  it('gives the median (odd and even counts), the minimum and the maximum', () => {
    expect(summarizeRounds([3, 1, 2])).toEqual({ median: 2, min: 1, max: 3 });
    expect(summarizeRounds([4, 1, 3, 2])).toEqual({ median: 2.5, min: 1, max: 4 });
    expect(summarizeRounds([0.7])).toEqual({ median: 0.7, min: 0.7, max: 0.7 });
  });

  it('refuses an empty list', () => {
    expect(() => summarizeRounds([])).toThrow(/no rounds/);
  });
});
