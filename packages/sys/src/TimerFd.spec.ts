import { describe, expect, it } from 'vitest';
import { Epoll, EPOLLIN } from './index.ts';
import { fdCount } from './testing/fdCount.ts';
import { TimerFd } from './TimerFd.ts';

describe('TimerFd', () => {
  it('expires once after armIn, wakes an epoll, and disarm stops it', () => {
    const before = fdCount.fds();
    const t = TimerFd.create();
    const ep = Epoll.create();
    try {
      expect(t.read()).toBe(0);
      ep.add(t.fd, EPOLLIN, 7);
      const start = performance.now();
      t.armIn(2000);
      const ev = ep.wait(4, 5000);
      expect(ev.map((e) => e.data)).toEqual([7]);
      expect(performance.now() - start).toBeGreaterThanOrEqual(1.9); // never before the time asked
      expect(t.read()).toBe(1);
      expect(t.read()).toBe(0);
      t.armIn(1_000_000);
      t.disarm();
      expect(ep.wait(4, 20)).toEqual([]);
    } finally {
      ep.close();
      t.close();
      t.close();
    }
    expect(() => t.fd).toThrow(/closed/);
    expect(fdCount.fds()).toBe(before);
  });
});
