import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseStatCpu } from './parseStatCpu.ts';

describe('parseStatCpu', () => {
  it('adds utime and stime (fields 14 and 15) in seconds, with spaces and parentheses in the name', () => {
    const line = '4242 (tap ref) (x) R 1 4242 4242 0 -1 4194304 100 0 0 0 250 75 0 0 20 0 1 0 123 4096 100 18446744073709551615';
    expect(parseStatCpu(line)).toBeCloseTo(3.25, 10);
  });

  it('reads this process and this thread: CPU time that grows with work done', () => {
    const stat = (): number => parseStatCpu(readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8'));
    const before = stat();
    // Burn CPU until the kernel has charged this thread at least two more ticks (1/USER_HZ each).
    const deadline = Date.now() + 20_000;
    let after = before;
    while (after < before + 0.02 && Date.now() < deadline) {
      for (let i = 0, x = 0; i < 1e6; i++) x += Math.sqrt(i + x);
      after = stat();
    }
    expect(after).toBeGreaterThanOrEqual(before + 0.02);
    // Whole ticks: utime + stime is a multiple of 10 ms.
    expect(Math.abs(after * 100 - Math.round(after * 100))).toBeLessThan(1e-6);
    // The process line counts this thread too.
    expect(parseStatCpu(readFileSync('/proc/self/stat', 'utf8'))).toBeGreaterThanOrEqual(after);
  });

  it('refuses text that is not a stat line', () => {
    expect(() => parseStatCpu('VmRSS: 1 kB')).toThrow(/not a \/proc stat line/);
  });
});
