import { describe, expect, it } from 'vitest';
import { Epoll } from './Epoll.ts';
import { EventFd } from './EventFd.ts';
import { EPOLLET, EPOLLIN, EPOLLOUT } from './linux/eventpoll.ts';
import { fdCount } from './testing/fdCount.ts';

function withEpoll(body: (ep: Epoll, a: EventFd, b: EventFd) => Promise<void> | void): () => Promise<void> {
  return async () => {
    const ep = Epoll.create();
    const a = EventFd.create({ nonBlocking: true });
    const b = EventFd.create({ nonBlocking: true });
    try {
      await body(ep, a, b);
    } finally {
      ep.close();
      a.close();
      b.close();
    }
  };
}

describe('Epoll', () => {
  it(
    'wait returns the ready fd with EPOLLIN and its data',
    withEpoll((ep, a, b) => {
      ep.add(a.fd, EPOLLIN, 1);
      ep.add(b.fd, EPOLLIN); // data defaults to the fd
      expect(ep.wait(8, 0)).toEqual([]);
      b.write();
      expect(ep.wait(8, 1000)).toEqual([{ data: b.fd, events: EPOLLIN }]);
      a.write();
      const both = ep.wait(8, 1000).map((e) => ({ ...e }));
      expect(both).toHaveLength(2);
      expect(both).toContainEqual({ data: 1, events: EPOLLIN });
      b.read();
      a.read();
      expect(ep.wait(8, 0)).toHaveLength(0);
    }),
  );

  it(
    'modify, remove, 64-bit data, edge-triggered, and reuse of the sync result',
    withEpoll((ep, a) => {
      ep.add(a.fd, EPOLLIN, 2 ** 40 + 5);
      a.write();
      const first = ep.wait(4, 1000);
      expect(first).toEqual([{ data: 2 ** 40 + 5, events: EPOLLIN }]);
      const firstEvent = first[0];
      ep.modify(a.fd, EPOLLOUT, 7);
      const second = ep.wait(4, 1000);
      expect(second).toBe(first); // same array, refilled
      expect(second[0]).toBe(firstEvent);
      expect(second[0]).toEqual({ data: 7, events: EPOLLOUT });
      ep.modify(a.fd, EPOLLIN | EPOLLET, 3);
      expect(ep.wait(4, 1000)).toEqual([{ data: 3, events: EPOLLIN }]);
      expect(ep.wait(4, 0)).toEqual([]); // edge already reported, counter unchanged
      ep.remove(a.fd);
      a.write();
      expect(ep.wait(4, 0)).toEqual([]);
      expect(() => ep.remove(a.fd)).toThrow(expect.objectContaining({ syscall: 'epoll_ctl', request: 'EPOLL_CTL_DEL', code: 'ENOENT' }));
      expect(() => ep.wait(0, 0)).toThrow(/maxEvents/);
      expect(() => ep.add(a.fd, EPOLLIN, -1)).toThrow(/data/);
    }),
  );

  it(
    'waitAsync resolves when another eventfd is written later, without blocking the event loop',
    withEpoll(async (ep, a, b) => {
      ep.add(a.fd, EPOLLIN, 10);
      ep.add(b.fd, EPOLLIN, 20);
      let ticks = 0;
      const ticker = setInterval(() => ticks++, 5);
      let writtenAt = 0;
      const writer = setTimeout(() => {
        writtenAt = performance.now();
        b.write(1n);
      }, 100);
      try {
        const start = performance.now();
        const events = await ep.waitAsync(8, 5000);
        const resolvedAt = performance.now();
        expect(events).toEqual([{ data: 20, events: EPOLLIN }]);
        expect(writtenAt).toBeGreaterThan(0);
        expect(resolvedAt).toBeGreaterThanOrEqual(writtenAt);
        expect(resolvedAt - start).toBeGreaterThanOrEqual(90);
        expect(ticks).toBeGreaterThanOrEqual(5); // timers ran while epoll_wait blocked a pool thread
      } finally {
        clearInterval(ticker);
        clearTimeout(writer);
      }
    }),
  );

  it(
    'waitAsync resolves [] at its timeout',
    withEpoll(async (ep, a) => {
      ep.add(a.fd, EPOLLIN);
      const start = performance.now();
      expect(await ep.waitAsync(4, 50)).toEqual([]);
      expect(performance.now() - start).toBeGreaterThanOrEqual(45);
    }),
  );

  it('closes once and refuses use after close', () => {
    const ep = Epoll.create();
    const fd = ep.fd;
    ep.close();
    ep.close();
    expect(fdCount.isOpen(fd)).toBe(false);
    expect(() => ep.wait()).toThrow(/closed/);
    expect(() => ep.waitAsync()).toThrow(/closed/);
  });
});
