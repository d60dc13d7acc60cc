import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TokenBucket } from './TokenBucket.ts';

// The oracle is exact rational arithmetic in BigInt: a bucket of size S refilled over P ms with a
// one-time burst B may hand out at most S + B + S * w / P tokens over any window of w ms, plus
// (when a request exceeds S) the largest request's excess over S.

type Op = { readonly dt: number; readonly kind: 'consume'; readonly n: number } | { readonly dt: number; readonly kind: 'wait'; readonly n: number };

const config = fc.record({
  size: fc.integer({ min: 1, max: 5000 }),
  refillTimeMs: fc.integer({ min: 1, max: 2000 }),
  oneTimeBurst: fc.integer({ min: 0, max: 3000 }),
});

function opsFor(maxN: number): fc.Arbitrary<Op[]> {
  return fc.array(
    fc.oneof(
      fc.record({ dt: fc.integer({ min: 0, max: 300 }), kind: fc.constant('consume' as const), n: fc.integer({ min: 1, max: maxN }) }),
      fc.record({ dt: fc.integer({ min: 0, max: 300 }), kind: fc.constant('wait' as const), n: fc.integer({ min: 1, max: maxN }) }),
    ),
    { maxLength: 300 },
  );
}

/** Checks every window [t_i, t_j] of the taken requests against the bound. */
function checkWindows(taken: readonly [number, number][], S: number, P: number, B: number, excess: number): void {
  for (let i = 0; i < taken.length; i++) {
    let sum = 0n;
    for (let j = i; j < taken.length; j++) {
      sum += BigInt(taken[j]![1]);
      const w = BigInt(taken[j]![0] - taken[i]![0]);
      // sum <= S + B + excess + S * w / P, times P to stay in integers.
      expect(sum * BigInt(P) <= BigInt(S + B + excess) * BigInt(P) + BigInt(S) * w).toBe(true);
    }
  }
}

function run(cfg: { size: number; refillTimeMs: number; oneTimeBurst: number }, ops: readonly Op[], start: number): [number, number][] {
  const b = new TokenBucket(cfg, start);
  const taken: [number, number][] = [];
  let now = start;
  for (const op of ops) {
    now += op.dt;
    if (op.kind === 'consume') {
      if (b.consume(op.n, now)) taken.push([now, op.n]);
    } else {
      b.waitMs(op.n, now);
    }
    expect(b.tokens).toBeGreaterThanOrEqual(0);
    expect(b.tokens).toBeLessThanOrEqual(cfg.size);
    expect(b.owed).toBeGreaterThanOrEqual(0);
    expect(b.oneTimeBurst).toBeGreaterThanOrEqual(0);
    expect(Number.isInteger(b.tokens) && Number.isInteger(b.owed)).toBe(true);
  }
  return taken;
}

describe('TokenBucket properties', () => {
  it('over any sequence of requests at any times, no window hands out more than size + burst + rate * window, and the bucket never goes negative', () => {
    fc.assert(
      fc.property(
        config.chain((cfg) => fc.tuple(fc.constant(cfg), opsFor(cfg.size), fc.integer({ min: 0, max: 1e12 }))),
        ([cfg, ops, start]) => {
          checkWindows(run(cfg, ops, start), cfg.size, cfg.refillTimeMs, cfg.oneTimeBurst, 0);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('requests larger than the bucket: the bound holds with the largest excess added', () => {
    fc.assert(
      fc.property(config, opsFor(12_000), (cfg, ops) => {
        const taken = run(cfg, ops, 1000);
        const excess = Math.max(0, ...ops.map((o) => o.n - cfg.size));
        checkWindows(taken, cfg.size, cfg.refillTimeMs, cfg.oneTimeBurst, excess);
      }),
      { numRuns: 200 },
    );
  });

  it('no drift: a consumer that takes everything at increasing times has taken exactly S + B + floor(S * t / P) (sizes and refill times up to the limits)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: TokenBucket.MAX_SIZE }),
        fc.integer({ min: 1, max: TokenBucket.MAX_REFILL_TIME_MS }),
        fc.integer({ min: 0, max: 1e6 }),
        fc.array(fc.integer({ min: 0, max: 1e7 }), { minLength: 1, maxLength: 60 }),
        (S, P, B, steps) => {
          const b = new TokenBucket({ size: S, refillTimeMs: P, oneTimeBurst: B }, 0);
          let now = 0;
          let total = 0n;
          for (const dt of steps) {
            now += dt;
            b.refillTo(now);
            const avail = b.tokens + b.oneTimeBurst;
            expect(b.consume(avail, now)).toBe(true);
            total += BigInt(avail);
            expect(total).toBe(greedyTotal(S, P, B, steps, now));
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('waitMs is exact: the request fails one ms earlier and succeeds then', () => {
    fc.assert(
      fc.property(config, opsFor(5000), fc.integer({ min: 1, max: 5000 }), (cfg, ops, n) => {
        const b = new TokenBucket(cfg, 0);
        let now = 0;
        for (const op of ops) {
          now += op.dt;
          b.consume(op.n, now);
        }
        const w = b.waitMs(n, now);
        const words = new Float64Array(TokenBucket.STATE_WORDS);
        b.save(words, 0);
        const at = (t: number): boolean => {
          const c = new TokenBucket(undefined, 0);
          c.load(words, 0);
          return c.consume(n, t);
        };
        expect(at(now + w)).toBe(true);
        if (w > 0) expect(at(now + w - 1)).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('zero size or zero refill time never limits', () => {
    fc.assert(
      fc.property(fc.constantFrom({ size: 0, refillTimeMs: 50 }, { size: 50, refillTimeMs: 0 }), opsFor(1e9), (cfg, ops) => {
        const b = new TokenBucket(cfg, 0);
        let now = 0;
        for (const op of ops) {
          now += op.dt;
          expect(op.kind === 'consume' ? b.consume(op.n, now) : b.waitMs(op.n, now) === 0).toBe(true);
        }
      }),
    );
  });

  it('after update, the new rate governs: tokens handed out from then on are bounded by the kept tokens + new size + new burst + new rate * time', () => {
    fc.assert(
      fc.property(config, config, opsFor(5000), opsFor(5000), (before, after, ops1, ops2) => {
        const b = new TokenBucket(before, 0);
        let now = 0;
        for (const op of ops1) {
          now += op.dt;
          b.consume(op.n, now);
        }
        b.update(after, now);
        expect(b.tokens).toBeLessThanOrEqual(after.size);
        const t0 = now;
        let sum = 0n;
        for (const op of ops2) {
          now += op.dt;
          if (b.consume(op.n, now)) sum += BigInt(op.n);
          const excess = BigInt(Math.max(0, ...ops2.map((o) => o.n - after.size)));
          const bound = BigInt(after.size + after.oneTimeBurst) + excess;
          expect(sum * BigInt(after.refillTimeMs) <= bound * BigInt(after.refillTimeMs) + BigInt(after.size) * BigInt(now - t0)).toBe(true);
        }
      }),
      { numRuns: 200 },
    );
  });
});

/**
 * What the greedy consumer of the no-drift property has taken by `until`, from an independent
 * BigInt model: the first take (at the first step) empties the full bucket and its burst; from
 * then on each take is what the gap earned on a grid of floor((t - t0) * S / P) tokens, unless the
 * gap earned a whole bucket or more: then S arrive and the grid starts over at that take (a full
 * bucket keeps no fraction).
 */
function greedyTotal(S: number, P: number, B: number, steps: readonly number[], until: number): bigint {
  const s = BigInt(S);
  const p = BigInt(P);
  let now = 0;
  let total = 0n;
  let t0 = -1n;
  let prev = 0n;
  for (const dt of steps) {
    now += dt;
    if (now > until) break;
    const t = BigInt(now);
    if (t0 < 0n) {
      total = s + BigInt(B);
      t0 = t;
      continue;
    }
    const grid = ((t - t0) * s) / p;
    const earned = grid - prev;
    if (earned >= s) {
      total += s;
      t0 = t;
      prev = 0n;
    } else {
      total += earned;
      prev = grid;
    }
  }
  return total;
}
