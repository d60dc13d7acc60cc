import { describe, expect, it } from 'vitest';
import { RxAfterTx } from './RxAfterTx.ts';

/** How many of the next `steps` TX steps try RX, each try answered with `got`. */
function tries(r: RxAfterTx, steps: number, got: boolean): number {
  let n = 0;
  for (let i = 0; i < steps; i++) {
    if (!r.due()) continue;
    n++;
    r.result(got);
  }
  return n;
}

describe('RxAfterTx', () => {
  it('tries after every TX step while each try finds a frame', () => {
    const r = new RxAfterTx();
    expect(tries(r, 100, true)).toBe(100);
    expect(r).toMatchObject({ hits: 100, misses: 0 });
  });

  it('backs off after misses, doubling the skipped steps up to 64, so an empty tap costs one read per 64 steps', () => {
    const r = new RxAfterTx();
    // Tries at steps 0, 2, 5, 10, 19, 36, 69 (skips 1, 2, 4, 8, 16, 32), then every 65th.
    expect(tries(r, 70, false)).toBe(7);
    const before = r.misses;
    expect(tries(r, 65 * 10, false)).toBe(10);
    expect(r.misses - before).toBe(10);
  });

  it('tries after every step again once a try finds a frame', () => {
    const r = new RxAfterTx();
    tries(r, 1000, false);
    let steps = 0;
    while (!r.due()) steps++;
    expect(steps).toBeLessThanOrEqual(64);
    r.result(true);
    expect(tries(r, 10, true)).toBe(10);
  });
});
