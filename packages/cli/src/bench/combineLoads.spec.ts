import { describe, expect, it } from 'vitest';
import { combineLoads } from './combineLoads.ts';

describe('combineLoads', () => {
  it('sums frames over the windows and takes the median thread share', () => {
    expect(
      combineLoads([
        { offered: 100, measured: 80, sourceBusy: 0.2, deviceBusy: 0.9 },
        { offered: 50, measured: 50, sourceBusy: 0.9, deviceBusy: 0.5 },
        { offered: 30, measured: 10, sourceBusy: 0.4, deviceBusy: 1 },
      ]),
    ).toEqual({ offered: 180, measured: 140, sourceBusy: 0.4, deviceBusy: 0.9 });
  });

  it('keeps a field only when every window has it, and gives undefined without samples', () => {
    expect(
      combineLoads([
        { offered: 10, measured: 5, sourceBusy: 0.5 },
        { offered: 1, measured: 1 },
      ]),
    ).toEqual({ offered: 11, measured: 6 });
    expect(combineLoads([undefined, undefined])).toBeUndefined();
    expect(combineLoads([])).toBeUndefined();
  });
});
