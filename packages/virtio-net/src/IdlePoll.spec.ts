import { Epoll, EPOLLIN, EventFd } from '@vnic/sys';
import { describe, expect, it } from 'vitest';
import { IdlePoll } from './IdlePoll.ts';
import type { PolledRings } from './PolledRings.ts';

function withEventFd(body: (ep: Epoll, ev: EventFd) => void): () => void {
  return () => {
    const ep = Epoll.create();
    const ev = EventFd.create({ nonBlocking: true });
    try {
      ep.add(ev.fd, EPOLLIN, 7);
      body(ep, ev);
    } finally {
      ep.close();
      ev.close();
    }
  };
}

describe('IdlePoll', () => {
  it(
    'grows its window from 4 us, doubling, while each wait ends sooner than the maximum, up to the maximum',
    withEventFd((ep, ev) => {
      // A maximum of 10 s: every wait below (an event already pending) ends far sooner.
      const idle = new IdlePoll(10_000_000);
      expect(idle.windowUs).toBe(0);
      ev.write();
      expect(idle.wait(ep, 8, -1).map((e) => e.data)).toEqual([7]);
      expect(idle).toMatchObject({ windowUs: 4, sleeps: 1, hits: 0 });
      // The event is still pending (not read): the poll sees it at once, the window stays.
      expect(idle.wait(ep, 8, -1).map((e) => e.data)).toEqual([7]);
      expect(idle).toMatchObject({ windowUs: 4, sleeps: 1, hits: 1 });
      ev.read();
      // Nothing ready: the 4 us poll misses, the wait blocks to its 1 ms timeout (< 10 s): doubles.
      expect(idle.wait(ep, 8, 1)).toEqual([]);
      expect(idle).toMatchObject({ windowUs: 8, sleeps: 2 });
      expect(idle.wait(ep, 8, 1)).toEqual([]);
      expect(idle.windowUs).toBe(16);
      // Capped at the maximum: a 0.6 s poll under a 1 s maximum doubles to 1 s, not 1.2 s.
      const capped = new IdlePoll(1_000_000);
      capped.windowUs = 600_000;
      expect(capped.wait(ep, 8, 1)).toEqual([]);
      expect(capped.windowUs).toBe(1_000_000);
    }),
  );

  it(
    'shrinks the window by half after a wait longer than the maximum, to 0 below 4 us',
    withEventFd((ep) => {
      const idle = new IdlePoll(100);
      idle.windowUs = 100;
      // Nothing becomes ready: polls 100 us, then blocks until the 20 ms timeout (> 100 us).
      expect(idle.wait(ep, 8, 20)).toEqual([]);
      expect(idle).toMatchObject({ windowUs: 50, sleeps: 1, hits: 0 });
      idle.windowUs = 6;
      expect(idle.wait(ep, 8, 20)).toEqual([]);
      expect(idle.windowUs).toBe(0); // 3 us is below the 4 us start: no polling
    }),
  );

  it(
    'never polls nor adapts with a maximum of 0 or for a wait with timeout 0',
    withEventFd((ep, ev) => {
      const off = new IdlePoll(0);
      ev.write();
      expect(off.wait(ep, 8, -1).map((e) => e.data)).toEqual([7]);
      expect(off).toMatchObject({ windowUs: 0, sleeps: 0, hits: 0 });
      const on = new IdlePoll(10_000_000);
      expect(on.wait(ep, 8, 0).map((e) => e.data)).toEqual([7]);
      ev.read();
      expect(on.wait(ep, 8, 0)).toEqual([]);
      expect(on).toMatchObject({ windowUs: 0, sleeps: 0, hits: 0 });
    }),
  );

  it(
    'leaves the rings quiet after a window a ring ended, polls them on a wait with timeout 0, arms them only before it sleeps',
    withEventFd((ep) => {
      // A stand-in for the TX rings (their AvailPoll logic has its own spec): what was called, in order.
      const calls: string[] = [];
      let buffers = false;
      let armFinds = false;
      const rings: PolledRings = {
        quiet: () => void calls.push('quiet'),
        poll: () => (calls.push('poll'), buffers),
        arm: () => (calls.push('arm'), armFinds),
      };
      const idle = new IdlePoll(10_000_000);
      idle.windowUs = 1_000_000;
      buffers = true;
      expect(idle.wait(ep, 8, -1, rings)).toEqual([]);
      expect(calls).toEqual(['quiet', 'poll']); // a ring had buffers: served with kicks still off
      expect(idle).toMatchObject({ hits: 1, sleeps: 0 });
      calls.length = 0;
      expect(idle.wait(ep, 8, 0, rings)).toEqual([]);
      expect(calls).toEqual(['poll']); // work pending: no window, but the quiet rings are looked at
      calls.length = 0;
      idle.windowUs = 0; // no window: straight to sleep, the rings armed first
      armFinds = true;
      expect(idle.wait(ep, 8, -1, rings)).toEqual([]);
      expect(calls).toEqual(['arm']);
      expect(idle).toMatchObject({ hits: 2, sleeps: 0 }); // buffers came while quiet: served, not slept on
      calls.length = 0;
      armFinds = false;
      expect(idle.wait(ep, 8, 1, rings)).toEqual([]); // armed, nothing there: it sleeps (1 ms timeout)
      expect(calls).toEqual(['arm']);
      expect(idle.sleeps).toBe(1);
    }),
  );
});
