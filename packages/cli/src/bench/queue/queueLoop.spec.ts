import { describe, expect, it } from 'vitest';
import { queueLoop } from './queueLoop.ts';

describe('queueLoop (vnic bench queue)', () => {
  for (const layout of ['split', 'packed'] as const) {
    it(`keeps a ${layout} ring of 256 going for its window: every turn's 256 chains back to the guest, CPU per frame on both sides`, () => {
      const w = queueLoop(layout, 256, 30);
      expect(w.frames).toBeGreaterThan(0);
      expect(w.frames % 256).toBe(0); // whole turns only: a short pump throws
      expect(w.deviceNs).toBeGreaterThan(0);
      expect(w.guestNs).toBeGreaterThan(0);
      expect(Number.isFinite(w.deviceNs + w.guestNs)).toBe(true);
    });
  }
});
