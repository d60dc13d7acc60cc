import { describe, expect, it } from 'vitest';
import { NotifyCoalescer } from './NotifyCoalescer.ts';

// The examples of virtio 1.3 §5.1.6.5.9 (RX example: max_usecs 10, max_packets 15; parameter change).

describe('NotifyCoalescer', () => {
  it('is off at first and with either parameter 0: every frame is notified', () => {
    const c = new NotifyCoalescer();
    expect(c.off).toBe(true);
    expect(c.add(1, 0)).toBe(true);
    c.set({ maxPackets: 0, maxUsecs: 100 }, 0);
    expect(c.add(1, 1)).toBe(true);
    c.set({ maxPackets: 100, maxUsecs: 0 }, 1);
    expect(c.add(1, 2)).toBe(true);
    expect(c.deadline).toBeUndefined();
  });

  it('notifies at max_packets frames', () => {
    const c = new NotifyCoalescer();
    c.set({ maxPackets: 15, maxUsecs: 10 }, 0);
    for (let i = 0; i < 14; i++) expect(c.add(1, 1), `frame ${i + 1}`).toBe(false);
    expect(c.pending).toBe(14);
    expect(c.add(1, 2)).toBe(true);
    expect(c.pending).toBe(0);
    expect(c.deadline).toBeUndefined();
  });

  it('notifies max_usecs after the first frame held, through expire (the timer)', () => {
    const c = new NotifyCoalescer();
    c.set({ maxPackets: 15, maxUsecs: 10 }, 0);
    expect(c.add(1, 100)).toBe(false);
    expect(c.deadline).toBe(110);
    expect(c.add(3, 105)).toBe(false);
    expect(c.deadline).toBe(110); // counted from the first frame, not the latest
    expect(c.expire(109)).toBe(false);
    expect(c.expire(110)).toBe(true);
    expect(c.expire(111)).toBe(false); // nothing held any more
    expect(c.add(1, 200)).toBe(false); // counting starts over with the next frame
    expect(c.deadline).toBe(210);
  });

  it('a frame arriving after the deadline is notified with the held ones', () => {
    const c = new NotifyCoalescer();
    c.set({ maxPackets: 15, maxUsecs: 10 }, 0);
    c.add(1, 0);
    expect(c.add(1, 10)).toBe(true);
  });

  it('new parameters that the held frames already meet make the notification due now', () => {
    const c = new NotifyCoalescer();
    c.set({ maxPackets: 15, maxUsecs: 1000 }, 0);
    for (let i = 0; i < 10; i++) c.add(1, 0);
    expect(c.set({ maxPackets: 8, maxUsecs: 1000 }, 1)).toBe(true); // the spec's example: 10 sent, max_packets now 8
    c.add(1, 2);
    expect(c.set({ maxPackets: 8, maxUsecs: 5 }, 6)).toBe(false); // deadline 2 + 5 = 7
    expect(c.deadline).toBe(7);
    expect(c.set({ maxPackets: 0, maxUsecs: 0 }, 6)).toBe(true); // turned off: due at once
  });
});
