import { describe, expect, it } from 'vitest';
import { checkHeadroom } from './checkHeadroom.ts';

describe('checkHeadroom', () => {
  it('passes a source that offered at least 1.2x what the device moved, and flags one that did not', () => {
    expect(checkHeadroom({ offered: 1300, measured: 1000 })).toEqual({ sourceLimited: false, text: 'offered 1.30x the measured rate' });
    expect(checkHeadroom({ offered: 1200, measured: 1000 }).sourceLimited).toBe(false);
    expect(checkHeadroom({ offered: 1100, measured: 1000 })).toEqual({ sourceLimited: true, text: 'offered 1.10x the measured rate' });
    // The bimodal vhost-net RX row: 16,255 frames in, all of them taken.
    expect(checkHeadroom({ offered: 16_255, measured: 16_255 }).sourceLimited).toBe(true);
    expect(checkHeadroom({ offered: 50, measured: 0 })).toEqual({ sourceLimited: true, text: 'offered 50 frames, the device moved none' });
  });

  it('passes a source idle enough to offer 1.2x, or below 90% next to a busy device; flags a saturated source', () => {
    expect(checkHeadroom({ sourceBusy: 0.3, deviceBusy: 0.97 })).toEqual({ sourceLimited: false, text: 'source 30% busy, device thread 97%' });
    // Idle 70% of the time (waiting for the device, or for CPU time the device did not get either): not the limit.
    expect(checkHeadroom({ sourceBusy: 0.3, deviceBusy: 0.36 }).sourceLimited).toBe(false);
    expect(checkHeadroom({ sourceBusy: 0.85, deviceBusy: 0.95 }).sourceLimited).toBe(false);
    expect(checkHeadroom({ sourceBusy: 0.85, deviceBusy: 0.5 }).sourceLimited).toBe(true);
    expect(checkHeadroom({ sourceBusy: 0.95, deviceBusy: 0.97 }).sourceLimited).toBe(true);
  });

  it('passes when either check passes and says what both saw', () => {
    const h = checkHeadroom({ offered: 1000, measured: 1000, sourceBusy: 0.2, deviceBusy: 1 });
    expect(h).toEqual({ sourceLimited: false, text: 'offered 1.00x the measured rate, source 20% busy, device thread 100%' });
  });

  it('refuses a sample with nothing to check', () => {
    expect(() => checkHeadroom({ offered: 5 })).toThrow(/neither/);
  });
});
