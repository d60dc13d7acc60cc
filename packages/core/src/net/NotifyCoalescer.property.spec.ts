import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NotifyCoalescer } from './NotifyCoalescer.ts';

// Random frame arrivals and timer wake-ups against the two promises of the coalescer, checked by
// an independent record of when each frame arrived and when notifications happened: never more
// than max_packets frames pending, and no frame held past max_usecs when the timer wakes at (or
// after) the deadline the coalescer asked for; with either parameter 0, every frame notified at once.

type Step = { readonly kind: 'frames'; readonly n: number; readonly dt: number } | { readonly kind: 'timer'; readonly late: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('frames' as const), n: fc.integer({ min: 1, max: 4 }), dt: fc.integer({ min: 0, max: 50 }) }),
  fc.record({ kind: fc.constant('timer' as const), late: fc.integer({ min: 0, max: 3 }) }),
);

describe('NotifyCoalescer (property)', () => {
  it('never holds more than max_packets frames nor any frame longer than max_usecs (+ timer lateness)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 200 }), fc.array(step, { maxLength: 200 }), (maxPackets, maxUsecs, steps) => {
        const c = new NotifyCoalescer();
        c.set({ maxPackets, maxUsecs }, 0);
        const off = maxPackets === 0 || maxUsecs === 0;
        let now = 0;
        let held: number[] = []; // arrival time of every frame not notified yet (the model)
        let lateness = 0;
        for (const s of steps) {
          // The caller's timer: whenever time passes, it fires at the deadline the coalescer gave (maybe late).
          if (s.kind === 'timer') {
            const d = c.deadline;
            if (d === undefined) continue;
            now = Math.max(now, d + s.late);
            lateness = Math.max(lateness, s.late);
            expect(c.expire(now)).toBe(true);
            for (const t of held) expect(now - t).toBeLessThanOrEqual(maxUsecs + s.late);
            held = [];
            continue;
          }
          const d = c.deadline;
          // Frames never arrive after a deadline that has not been served (the timer would have fired first).
          now = d === undefined ? now + s.dt : Math.min(now + s.dt, d);
          for (let i = 0; i < s.n; i++) held.push(now);
          const notify = c.add(s.n, now);
          if (off) expect(notify).toBe(true);
          if (notify) held = [];
          else {
            // Adds of one frame at a time never exceed max_packets; a batch of n counts as n.
            expect(held.length).toBeLessThan(maxPackets);
            expect(c.pending).toBe(held.length);
            expect(c.deadline).toBe(held[0]! + maxUsecs);
          }
        }
        return lateness >= 0;
      }),
      { numRuns: 500 },
    );
  });
});
