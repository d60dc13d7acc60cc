import { describe, expect, it } from 'vitest';
import { WarningCoalescer, type WarningClock } from './WarningCoalescer.ts';

// Pure logic over a fake clock: timers fire only when the spec advances time.
function fakeClock(): WarningClock & { advance(ms: number): void } {
  let t = 0;
  let timers: { at: number; fn: () => void }[] = [];
  return {
    now: () => t,
    schedule(fn, ms) {
      const timer = { at: t + ms, fn };
      timers.push(timer);
      return () => {
        timers = timers.filter((x) => x !== timer);
      };
    },
    advance(ms) {
      const end = t + ms;
      for (;;) {
        const next = timers.filter((x) => x.at <= end).sort((a, b) => a.at - b.at)[0];
        if (next === undefined) break;
        timers = timers.filter((x) => x !== next);
        t = next.at;
        next.fn();
      }
      t = end;
    },
  };
}

describe('WarningCoalescer', () => {
  it('emits the first warning at once and the rest of its window as one, with the count', () => {
    const clock = fakeClock();
    const out: string[] = [];
    const c = new WarningCoalescer({ emit: (m) => out.push(m), clock });
    for (let i = 1; i <= 1000; i++) c.warn('config-change', `change ${i}`);
    expect(out).toEqual(['change 1']);
    clock.advance(999);
    expect(out).toEqual(['change 1']);
    clock.advance(1);
    expect(out).toEqual(['change 1', 'change 1000 (999 more in 1 s)']);
  });

  it('keeps at most one per window while a flood lasts, and starts over after a quiet window', () => {
    const clock = fakeClock();
    const out: string[] = [];
    const c = new WarningCoalescer({ emit: (m) => out.push(m), clock, intervalMs: 500 });
    for (let ms = 0; ms < 3000; ms++) {
      c.warn('flood', 'x');
      clock.advance(1);
    }
    // One warning per ms for 3 s, windows of 500 ms: the first at once; its window holds the 499
    // of ms 1..499; each of the 5 windows after it holds 500.
    expect(out).toHaveLength(7);
    expect(out[0]).toBe('x');
    expect(out[1]).toBe('x (499 more in 0.5 s)');
    expect(out.slice(2)).toEqual(Array(5).fill('x (500 more in 0.5 s)'));
    clock.advance(500); // a window with nothing held back closes silently
    expect(out).toHaveLength(7);
    c.warn('flood', 'y');
    expect(out[7]).toBe('y');
  });

  it('coalesces each kind on its own', () => {
    const clock = fakeClock();
    const out: string[] = [];
    const c = new WarningCoalescer({ emit: (m) => out.push(m), clock });
    c.warn('a', 'a1');
    c.warn('b', 'b1');
    c.warn('a', 'a2');
    expect(out).toEqual(['a1', 'b1']);
    clock.advance(1000);
    expect(out).toEqual(['a1', 'b1', 'a2 (1 more in 1 s)']);
  });

  it('dispose() cancels pending windows: nothing is emitted after it', () => {
    const clock = fakeClock();
    const out: string[] = [];
    const c = new WarningCoalescer({ emit: (m) => out.push(m), clock });
    c.warn('a', 'a1');
    c.warn('a', 'a2');
    c.dispose();
    clock.advance(5000);
    expect(out).toEqual(['a1']);
  });
});
