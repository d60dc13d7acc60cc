import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Epoll } from './Epoll.ts';
import { EventFd } from './EventFd.ts';
import { IoVecArray } from './fd/IoVecArray.ts';
import { readvFd } from './fd/readvFd.ts';
import { writevFd } from './fd/writevFd.ts';
import { EPOLLIN } from './linux/eventpoll.ts';
import { mapGuestMemory } from './memory/mapGuestMemory.ts';
import { MemfdGuestMemory } from './memory/MemfdGuestMemory.ts';
import { Tap } from './Tap.ts';
import { fdCount } from './testing/fdCount.ts';
import { hostTapPeer } from './testing/hostTapPeer.ts';
import { uniqueName } from './testing/uniqueName.ts';
import { UnixSocket } from './unix/UnixSocket.ts';

const N = 1000;

const MEMFD_NAME = 'vnic-leak-test';
const memfdMappings = (): number => fdCount.memfdMappings(MEMFD_NAME);

/** Runs `body` N times and checks /proc/self/fd ends where it started (and /proc/self/maps, see below). */
function noLeak(body: (i: number) => void, maps = false): void {
  body(-1); // warm up lazily created state (koffi pools, module scratch buffers)
  const fds = fdCount.fds();
  const mapCount = fdCount.mapLines().length;
  const memfdCount = memfdMappings();
  for (let i = 0; i < N; i++) body(i);
  expect(fdCount.fds()).toBe(fds);
  if (maps) {
    // Every mapping of our memfds is gone, exactly.
    expect(memfdMappings()).toBe(memfdCount);
    // The total line count cannot be compared exactly in a live V8 process: malloc arenas, [heap]
    // and JIT code space split and grow on their own (up to ~70 lines seen under CPU load). The
    // smallest leak here (one mapping per cycle) adds N lines, so N / 4 separates the two.
    expect(Math.abs(fdCount.mapLines().length - mapCount)).toBeLessThan(N / 4);
  }
}

describe(`no fd or mapping leaks over ${N} open/close cycles`, () => {
  it('EventFd', () => {
    noLeak(() => {
      const e = EventFd.create({ nonBlocking: true });
      e.write();
      e.close();
    });
  });

  it('Epoll (with a registered eventfd)', () => {
    noLeak(() => {
      const ep = Epoll.create();
      const e = EventFd.create();
      try {
        ep.add(e.fd, EPOLLIN);
        e.write();
        expect(ep.wait(1, 0)).toHaveLength(1);
      } finally {
        e.close();
        ep.close();
      }
    });
  });

  it('MemfdGuestMemory and a second mapping of it (fds and /proc/self/maps)', () => {
    noLeak((i) => {
      const mem = MemfdGuestMemory.create({
        name: MEMFD_NAME,
        regions: [
          { guestPhysAddr: 0, size: 64 * 1024 },
          { guestPhysAddr: 0x10_0000, size: 16 * 1024 },
        ],
      });
      try {
        mem.memory.write(0x10_0000, new Uint8Array([i & 0xff]));
        const second = mapGuestMemory(mem.layout);
        expect(second.memory.read(0x10_0000, 1)![0]).toBe(i & 0xff);
        if (i === 0) expect(memfdMappings()).toBeGreaterThanOrEqual(4); // the check below does see our mappings
        second.close();
      } finally {
        mem.close();
      }
    }, true);
  });

  it('socketpairs carrying an fd with SCM_RIGHTS', () => {
    const payload = new Uint8Array([1]);
    const iov = new IoVecArray(1);
    noLeak(() => {
      const [a, b] = UnixSocket.pair();
      const e = EventFd.create();
      try {
        a.send(payload, [e.fd]);
        const got = b.recv(8, 1);
        EventFd.fromFd(got.fds[0]!).close();
        iov.clear();
        iov.pushBytes(payload);
        writevFd(a.fd, iov);
        expect(readvFd(b.fd, iov)).toBe(1);
      } finally {
        e.close();
        a.close();
        b.close();
      }
    });
  });

  const peer = hostTapPeer();
  describe.skipIf(peer.skip)('Tap (attach to one persistent tap)', () => {
    beforeAll(() => {
      if (peer.reason !== undefined) throw new Error(`host kernel tap peer missing: ${peer.reason}`);
    });

    it(`attaches and closes ${N} times`, () => {
      const name = uniqueName();
      const owner = Tap.open({ name, queues: 2 });
      try {
        owner.setPersistent(true);
        owner.close();
        noLeak(() => {
          const tap = Tap.open({ name, queues: 2 });
          tap.close();
        });
      } finally {
        owner.close();
        if (existsSync(`/sys/class/net/${name}`)) execFileSync('ip', ['link', 'del', name], { stdio: 'pipe' });
      }
      expect(existsSync(`/sys/class/net/${name}`)).toBe(false);
    });
  });
});
