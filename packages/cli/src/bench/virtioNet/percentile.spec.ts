import { describe, expect, it } from 'vitest';
import { percentile } from './percentile.ts';

describe('percentile (nearest rank)', () => {
  const hundred = Array.from({ length: 100 }, (_, i) => i + 1); // 1..100

  it('gives the value with q of the samples at or below it', () => {
    expect(percentile(hundred, 0.5)).toBe(50);
    expect(percentile(hundred, 0.99)).toBe(99);
    expect(percentile(hundred, 1)).toBe(100);
    expect(percentile([10, 20, 30], 0.5)).toBe(20);
    expect(percentile([10, 20, 30, 40], 0.5)).toBe(20);
    expect(percentile([7], 0.99)).toBe(7);
    // One slow sample in 200 stays out of p99; three do not.
    const slow1 = [...Array<number>(199).fill(5), 900];
    expect(percentile(slow1, 0.99)).toBe(5);
    expect(percentile([...Array<number>(197).fill(5), 900, 900, 900], 0.99)).toBe(900);
  });

  it('refuses no samples and a q outside (0, 1]', () => {
    expect(() => percentile([], 0.5)).toThrow(/no samples/);
    expect(() => percentile([1], 0)).toThrow(/outside/);
    expect(() => percentile([1], 1.5)).toThrow(/outside/);
  });
});
