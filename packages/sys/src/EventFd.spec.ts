import { describe, expect, it } from 'vitest';
import { EventFd } from './EventFd.ts';
import { dupFd } from './fd/dupFd.ts';
import { fdCount } from './testing/fdCount.ts';
import { closeFd } from './fd/closeFd.ts';
import { fdKind, isEventFd } from './fd/fdKind.ts';
import { socketpair } from './unix/socketpair.ts';

describe('EventFd', () => {
  it('adds writes and reads-and-resets the counter', () => {
    const e = EventFd.create({ nonBlocking: true });
    try {
      expect(e.write(3n)).toBe(true);
      expect(e.write(4)).toBe(true);
      expect(e.write()).toBe(true);
      expect(e.read()).toBe(8n);
      expect(e.read()).toBeUndefined();
      expect(e.write(2 ** 40 + 1)).toBe(true);
      expect(e.read()).toBe(2n ** 40n + 1n);
      expect(() => e.write(-1)).toThrow(/increment -1/);
      expect(() => e.write(0.5)).toThrow(/increment 0.5/);
    } finally {
      e.close();
    }
  });

  it('semaphore mode reads one at a time; initial value counts', () => {
    const e = EventFd.create({ nonBlocking: true, semaphore: true, initial: 2 });
    try {
      expect(e.read()).toBe(1n);
      expect(e.read()).toBe(1n);
      expect(e.read()).toBeUndefined();
    } finally {
      e.close();
    }
  });

  it('non-blocking write returns false when the counter would overflow', () => {
    const e = EventFd.create({ nonBlocking: true });
    try {
      expect(e.write(0xffff_ffff_ffff_fffen)).toBe(true);
      expect(e.write(1n)).toBe(false);
    } finally {
      e.close();
    }
  });

  it('is close-on-exec, closes once, and refuses use after close', () => {
    const e = EventFd.create();
    const fd = e.fd;
    expect(fdCount.flags(fd) & 0o2000000).toBe(0o2000000);
    e.close();
    e.close();
    expect(e.closed).toBe(true);
    expect(fdCount.isOpen(fd)).toBe(false);
    expect(() => e.fd).toThrow(/closed/);
    expect(() => e.write()).toThrow(/closed/);
  });

  it('fromFd takes ownership of the fd', () => {
    const original = EventFd.create({ nonBlocking: true });
    try {
      const adopted = EventFd.fromFd(dupFd(original.fd));
      const fd = adopted.fd;
      adopted.write(5n);
      expect(original.read()).toBe(5n);
      adopted.close();
      expect(fdCount.isOpen(fd)).toBe(false);
      expect(() => EventFd.fromFd(-1)).toThrow(/not a valid fd/);
    } finally {
      original.close();
    }
  });

  it('a socket whose peer closed: read names end of stream (no stale errno) and write a non-eventfd, never spinning', () => {
    const [a, b] = socketpair();
    const e = EventFd.fromFd(b);
    try {
      expect(isEventFd(b)).toBe(false);
      expect(fdKind(b)).toMatch(/^socket:\[\d+\]$/);
      closeFd(a);
      expect(() => e.read()).toThrow(new RegExp(`^read eventfd ${b}: end of stream \\(0 bytes\\) instead of the 8-byte counter: the fd is not an eventfd`));
    } finally {
      e.close();
    }
    const [c, d] = socketpair();
    const f = EventFd.fromFd(d);
    try {
      EventFd.fromFd(c).write(0); // 8 bytes of zeros on the socket
      expect(f.read()).toBe(0n);
      closeFd(c);
      expect(() => f.read()).toThrow(/end of stream/);
    } finally {
      f.close();
    }
    const real = EventFd.create();
    try {
      expect(isEventFd(real.fd)).toBe(true);
    } finally {
      real.close();
    }
  });
});
