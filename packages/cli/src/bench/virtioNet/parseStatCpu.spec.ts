import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseStatCpu } from './parseStatCpu.ts';

describe('parseStatCpu', () => {
  it('adds utime and stime (fields 14 and 15) in seconds, with spaces and parentheses in the name', () => {
    const line = '4242 (tap ref) (x) R 1 4242 4242 0 -1 4194304 100 0 0 0 250 75 0 0 20 0 1 0 123 4096 100 18446744073709551615';
    expect(parseStatCpu(line)).toBeCloseTo(3.25, 10);
  });

  it('reads this process and this thread', () => {
    expect(parseStatCpu(readFileSync('/proc/self/stat', 'utf8'))).toBeGreaterThanOrEqual(0);
    expect(parseStatCpu(readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8'))).toBeGreaterThanOrEqual(0);
  });

  it('refuses text that is not a stat line', () => {
    expect(() => parseStatCpu('VmRSS: 1 kB')).toThrow(/not a \/proc stat line/);
  });
});
