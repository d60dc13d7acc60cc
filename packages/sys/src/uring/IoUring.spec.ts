import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { closeFd } from '../fd/closeFd.ts';
import { IoVecArray } from '../fd/IoVecArray.ts';
import { readFd } from '../fd/readFd.ts';
import { writeFd } from '../fd/writeFd.ts';
import { setNonBlocking } from '../fd/setNonBlocking.ts';
import { EAGAIN, EBADF } from '../linux/errno.ts';
import { O_CLOEXEC } from '../linux/fcntl.ts';
import { fdCount } from '../testing/fdCount.ts';
import { socketpair } from '../unix/socketpair.ts';
import { EINVAL } from '../linux/errno.ts';
import { IORING_SETUP_DEFER_TASKRUN, IORING_SETUP_NO_SQARRAY, IORING_SETUP_SINGLE_ISSUER, IO_URING_PARAMS_SIZE } from '../linux/io_uring.ts';
import { IoUring } from './IoUring.ts';
import { setupIoUring } from './setupIoUring.ts';
import { SqPollGroup } from './SqPollGroup.ts';
import { sqPollThreads } from './sqPollThreads.ts';
import { waitUntil } from '../testing/waitUntil.ts';

const IOVEC = 16;
const ringMappings = (): number => fdCount.mapLines().filter((l) => l.includes('io_uring')).length;
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Reads exactly `n` bytes from a non-blocking fd that already holds them. */
function readN(fd: number, n: number): string {
  const buf = new Uint8Array(n + 1);
  const got = readFd(fd, buf);
  return new TextDecoder().decode(buf.subarray(0, Math.max(got, 0)));
}

describe('IoUring', () => {
  it('writes a batch of gathered frames with one submit and reports each result', () => {
    const ring = IoUring.create(8);
    const [a, b] = socketpair();
    try {
      expect(ring.entries).toBe(8);
      expect(fdCount.flags(ring.fd) & O_CLOEXEC).toBe(O_CLOEXEC); // the kernel opens ring fds close-on-exec
      setNonBlocking(b, true);
      // Three "frames" of two buffers each, their iovecs side by side in one array.
      const parts = [bytes('hd0'), bytes('-first'), bytes('hd1'), bytes('-second'), bytes('hd2'), bytes('-third!')];
      const iov = new IoVecArray(parts.length);
      for (const p of parts) iov.pushBytes(p);
      const base = Number(iov.address);
      ring.results.fill(-12345);
      for (let f = 0; f < 3; f++) ring.prepWritev(a, base + 2 * f * IOVEC, 2, f);
      expect(ring.pending).toBe(3);
      expect(ring.submitAndWait()).toBe(3);
      expect(ring.pending).toBe(0);
      expect(Array.from(ring.results.subarray(0, 3))).toEqual([9, 10, 10]);
      expect(ring.results[3]).toBe(-12345); // untouched slots stay as they were
      expect(readN(b, 64)).toBe('hd0-firsthd1-secondhd2-third!'); // in submission order
      // The ring wraps: many rounds through 8 entries keep working.
      for (let round = 0; round < 20; round++) {
        for (let f = 0; f < 8; f++) ring.prepWritev(a, base + 2 * (f % 3) * IOVEC, 2, f);
        expect(ring.submitAndWait()).toBe(8);
        expect(ring.results.reduce((s, r) => s + r, 0)).toBe(9 + 10 + 10 + 9 + 10 + 10 + 9 + 10);
        expect(readN(b, 200)).toHaveLength(77);
      }
      expect(ring.submitAndWait()).toBe(0); // nothing queued: no syscall, nothing to wait for
    } finally {
      ring.close();
      closeFd(a);
      closeFd(b);
    }
  });

  it('writes one-buffer frames with WRITE SQEs, mixed with WRITEV ones, through a registered fixed file', () => {
    const ring = IoUring.create(8);
    const [a, b] = socketpair();
    try {
      setNonBlocking(b, true);
      const one = bytes('single');
      const parts = [bytes('ab'), bytes('cd')];
      const iov = new IoVecArray(4);
      for (const p of parts) iov.pushBytes(p);
      const oneAddr = IoVecArray.addressOf(one);
      for (const fixed of [false, true]) {
        if (fixed) ring.registerFile(a);
        ring.results.fill(-12345);
        ring.prepWrite(a, oneAddr, one.length, 0);
        ring.prepWritev(a, Number(iov.address), 2, 1);
        ring.prepWrite(a, oneAddr + 1, 3, 2);
        expect(ring.submitAndWait()).toBe(3);
        expect(Array.from(ring.results.subarray(0, 3))).toEqual([6, 4, 3]);
        expect(readN(b, 64)).toBe('singleabcding');
      }
      // A second registration is refused by the kernel (EBUSY), named as io_uring_register.
      expect(() => ring.registerFile(a)).toThrow(/io_uring_register/);
    } finally {
      ring.close();
      closeFd(a);
      closeFd(b);
    }
  });

  it('takes host addresses out of typed arrays and iovec arrays (prepWriteAt, prepWritevOf, prepReadvOf, IoVecArray.pushAt)', () => {
    const ring = IoUring.create(8);
    const [a, b] = socketpair();
    try {
      setNonBlocking(b, true);
      const one = bytes('single');
      const decoy = bytes('XX');
      const two = bytes('abcdef');
      const addrs = Float64Array.of(IoVecArray.addressOf(decoy), IoVecArray.addressOf(one), IoVecArray.addressOf(two));
      const iov = new IoVecArray(4);
      iov.pushAt(addrs, 0, 2); // iovec 0: the decoy, which no SQE below points at
      iov.pushAt(addrs, 2, 2, 1); // iovec 1: 'bc' (offset 1)
      iov.pushAt(addrs, 2, 1, 5); // iovec 2: 'f'
      expect(iov.byteLength).toBe(5);
      ring.prepWriteAt(a, addrs, 1, 3, 0);
      ring.prepWritevOf(a, iov, 1, 2, 1);
      expect(ring.submitAndWait()).toBe(2);
      expect(Array.from(ring.results.subarray(0, 2))).toEqual([3, 3]);
      // Read it back on the other end into iovecs 1..2 of a second array, iovec 0 left out.
      writeFd(b, bytes('0123'));
      const into = new Uint8Array(8).fill(0x2e);
      const dst = Float64Array.of(IoVecArray.addressOf(into));
      const riov = new IoVecArray(3);
      riov.pushAt(dst, 0, 2, 6); // never read into: not in the SQE
      riov.pushAt(dst, 0, 1, 1);
      riov.pushAt(dst, 0, 3, 3);
      ring.prepReadvOf(a, riov, 1, 2, 0);
      expect(ring.submitAndWait()).toBe(1);
      expect(ring.results[0]).toBe(4);
      expect(new TextDecoder().decode(into)).toBe('.0.123..');
      expect(readN(b, 64)).toBe('sinbcf');
    } finally {
      ring.close();
      closeFd(a);
      closeFd(b);
    }
  });

  it('reports a bad fd as -EBADF in that entry only', () => {
    const ring = IoUring.create(4);
    const [a, b] = socketpair();
    const spare = socketpair();
    closeFd(spare[0]); // a number that is surely not an open fd now
    closeFd(spare[1]);
    try {
      setNonBlocking(b, true);
      const iov = new IoVecArray(1);
      iov.pushBytes(bytes('ok'));
      const addr = Number(iov.address);
      ring.prepWritev(a, addr, 1, 0);
      ring.prepWritev(spare[0], addr, 1, 1);
      ring.prepWritev(a, addr, 1, 2);
      expect(ring.submitAndWait()).toBe(3);
      expect(Array.from(ring.results.subarray(0, 3))).toEqual([2, -EBADF, 2]);
      expect(readN(b, 16)).toBe('okok');
    } finally {
      ring.close();
      closeFd(a);
      closeFd(b);
    }
  });

  it('with noWait, a write that finds no room completes at once with -EAGAIN, and goes through once there is room', () => {
    const ring = IoUring.create(2);
    const [a, b] = socketpair();
    try {
      setNonBlocking(a, true);
      setNonBlocking(b, true);
      const chunk = new Uint8Array(4096);
      let filled = 0;
      while (writeFd(a, chunk) > 0) filled++; // until the socket's send buffer is full
      expect(filled).toBeGreaterThan(0);
      const iov = new IoVecArray(1);
      iov.pushBytes(bytes('late'));
      ring.prepWritev(a, Number(iov.address), 1, 0, true);
      expect(ring.submitAndWait()).toBe(1); // returns: without noWait it would wait for room
      expect(ring.results[0]).toBe(-EAGAIN);
      const sink = new Uint8Array(1 << 16);
      while (readFd(b, sink) > 0); // room again
      ring.prepWritev(a, Number(iov.address), 1, 1, true);
      ring.submitAndWait();
      expect(ring.results[1]).toBe(4);
      expect(readN(b, 16)).toBe('late');
    } finally {
      ring.close();
      closeFd(a);
      closeFd(b);
    }
  });

  it('reads a batch of datagrams into scattered buffers in submission order; with noWait an empty socket gives -EAGAIN', () => {
    const ring = IoUring.create(4);
    const [a, b] = socketpair({ type: 'dgram', nonBlocking: true });
    try {
      for (const m of ['first', 'second!', 'x']) expect(writeFd(a, bytes(m))).toBe(m.length);
      // Four reads of two buffers each (3 + 5 bytes): three datagrams wait, the fourth read finds none.
      const bufs = Array.from({ length: 8 }, (_, i) => new Uint8Array(i % 2 === 0 ? 3 : 5));
      const iov = new IoVecArray(bufs.length);
      for (const p of bufs) iov.pushBytes(p);
      const base = Number(iov.address);
      for (let r = 0; r < 4; r++) ring.prepReadv(b, base + 2 * r * IOVEC, 2, r, true);
      expect(ring.submitAndWait()).toBe(4);
      expect(Array.from(ring.results.subarray(0, 4))).toEqual([5, 7, 1, -EAGAIN]);
      const text = (r: number, n: number): string => new TextDecoder().decode(Buffer.concat([bufs[2 * r]!, bufs[2 * r + 1]!]).subarray(0, n));
      expect([text(0, 5), text(1, 7), text(2, 1)]).toEqual(['first', 'second!', 'x']);
    } finally {
      ring.close();
      closeFd(a);
      closeFd(b);
    }
  });

  it('refuses a full submission queue, a user_data outside the results and use after close', () => {
    const ring = IoUring.create(2);
    try {
      ring.prepWritev(0, 4096, 1, 0);
      ring.prepWritev(0, 4096, 1, 1);
      expect(() => ring.prepWritev(0, 4096, 1, 0)).toThrow(/submission queue is full/);
    } finally {
      ring.close();
    }
    expect(ring.isClosed).toBe(true);
    expect(() => ring.submitAndWait()).toThrow(/closed/);
    ring.close(); // idempotent
    const other = IoUring.create(2);
    try {
      expect(() => other.prepWritev(0, 4096, 1, 2)).toThrow(/user_data 2/);
    } finally {
      other.close();
    }
    expect(() => IoUring.create(0)).toThrow(/entries 0/);
  });

  it('close releases the fd and every ring mapping (200 cycles)', () => {
    IoUring.create(64).close(); // warm-up
    const fds = fdCount.fds();
    const maps = ringMappings();
    let fd = -1;
    for (let i = 0; i < 200; i++) {
      const ring = IoUring.create(64);
      fd = ring.fd;
      expect(fdCount.isOpen(fd)).toBe(true);
      if (i === 0) expect(ringMappings()).toBeGreaterThan(maps); // the rings really show up in maps
      ring.close();
    }
    expect(fdCount.isOpen(fd)).toBe(false);
    expect(fdCount.fds()).toBe(fds);
    expect(ringMappings()).toBe(maps);
  });
});

describe('IoUring with SQPOLL', () => {
  it('runs published SQEs on a kernel SQ thread, shared by the rings of a SqPollGroup, gone after the last close', async () => {
    const before = sqPollThreads();
    const group = new SqPollGroup(5);
    const [a, b] = socketpair();
    let one: IoUring | undefined;
    let two: IoUring | undefined;
    try {
      setNonBlocking(b, true);
      one = group.create(8);
      two = group.create(8);
      expect([one.sqPoll, two.sqPoll]).toEqual([true, true]);
      expect(group.size).toBe(2);
      // ATTACH_WQ: one kernel thread for both rings (it takes its iou-sqp name just after it starts).
      await waitUntil(() => sqPollThreads() > before, 'the kernel SQ thread to appear');
      expect(sqPollThreads()).toBe(before + 1);
      const msg = bytes('polled');
      const addr = IoVecArray.addressOf(msg);
      for (let round = 0; round < 50; round++) {
        for (const [ring, k] of [
          [one, 0],
          [two, 1],
        ] as const) {
          ring.results.fill(-12345);
          for (let f = 0; f < 8; f++) {
            ring.prepWrite(a, addr, 1 + ((f + k) % 6), f, true);
            ring.publish(); // the SQ thread may run it now
          }
          expect(ring.pending).toBe(8);
          expect(ring.submitAndWait()).toBe(8);
          expect(Array.from(ring.results.subarray(0, 8))).toEqual(Array.from({ length: 8 }, (_, f) => 1 + ((f + k) % 6)));
          const want = Array.from({ length: 8 }, (_, f) => 'polled'.slice(0, 1 + ((f + k) % 6))).join('');
          expect(readN(b, 256)).toBe(want); // in submission order
        }
        // Past sq_thread_idle the thread sleeps (IORING_SQ_NEED_WAKEUP): the next publish must wake it.
        if (round === 25) await new Promise((r) => setTimeout(r, 20));
      }
    } finally {
      if (one !== undefined) group.release(one);
      if (two !== undefined) group.release(two);
      closeFd(a);
      closeFd(b);
    }
    expect(group.size).toBe(0);
    await waitUntil(() => sqPollThreads() === before, 'the SQ thread to exit');
  });

  it('validates its options', () => {
    expect(() => IoUring.create(4, { sqPollIdleMs: 0 })).toThrow(/sqPollIdleMs 0/);
    expect(() => IoUring.create(4, { attachTo: 3 })).toThrow(/attachTo needs sqPollIdleMs/);
    expect(() => IoUring.create(4, { singleIssuer: true, sqPollIdleMs: 10 })).toThrow(/exclude each other/);
  });

  it('falls back to the next setup flags a kernel refuses as unknown (EINVAL), and stops at any other refusal', () => {
    const unknown = 1 << 30; // no kernel defines this IORING_SETUP_ bit
    const params = new Uint8Array(IO_URING_PARAMS_SIZE);
    const taken = setupIoUring(4, params, [unknown, IORING_SETUP_SINGLE_ISSUER, 0]);
    expect(taken.fd).toBeGreaterThanOrEqual(0);
    expect(taken.flags).toBe(IORING_SETUP_SINGLE_ISSUER);
    closeFd(taken.fd);
    const refused = setupIoUring(4, new Uint8Array(IO_URING_PARAMS_SIZE), [unknown]);
    expect(refused).toEqual({ fd: -1, flags: 0, errno: EINVAL });
    // 0 entries is EINVAL for every flag set: each is tried, and the last refusal is reported.
    expect(setupIoUring(0, new Uint8Array(IO_URING_PARAMS_SIZE), [IORING_SETUP_SINGLE_ISSUER, 0]).fd).toBe(-1);
  });

  it('sets a single-issuer ring up with DEFER_TASKRUN and no SQ array where the kernel takes them, and writes through it', () => {
    const ring = IoUring.create(8, { singleIssuer: true });
    const [a, b] = socketpair();
    try {
      setNonBlocking(b, true);
      // Linux 6.6+ takes all of them; an older kernel falls back (setupIoUring) and this ring says so.
      const release = /^(\d+)\.(\d+)/.exec(readFileSync('/proc/sys/kernel/osrelease', 'utf8'))!;
      const modern = Number(release[1]) > 6 || (Number(release[1]) === 6 && Number(release[2]) >= 6);
      if (modern)
        expect(ring.setupFlags & (IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_NO_SQARRAY)).toBe(
          IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_NO_SQARRAY,
        );
      ring.registerFile(a);
      const one = bytes('frame');
      // More rounds than entries: the SQ ring wraps, with no index array to map its slots.
      for (let round = 0; round < 6; round++) {
        for (let k = 0; k < 3; k++) ring.prepWrite(a, IoVecArray.addressOf(one), one.length, k, true);
        expect(ring.submitAndWait()).toBe(3);
        expect(Array.from(ring.results.subarray(0, 3))).toEqual([5, 5, 5]);
        expect(readN(b, 64)).toBe('frameframeframe');
      }
    } finally {
      ring.close();
      closeFd(a);
      closeFd(b);
    }
  });

  it('drops its registered file when it closes: the file is released with the last fd, not later', () => {
    const ring = IoUring.create(4, { singleIssuer: true });
    const [a, b] = socketpair();
    try {
      setNonBlocking(b, true);
      ring.registerFile(a);
      closeFd(a); // the ring still holds the socket
      expect(readFd(b, new Uint8Array(8))).toBe(-1); // EAGAIN: the peer is open
      ring.close();
      // The ring's reference went with IORING_UNREGISTER_FILES: the peer sees end of file now.
      expect(readFd(b, new Uint8Array(8))).toBe(0);
    } finally {
      ring.close();
      closeFd(b);
    }
  });
});
