import { DriverQueue, GuestMemory, PackedDriverQueue, PackedQueue, SplitQueue, VIRTQ_DESC_F_WRITE } from '@vnic/core';
import type { IoVecArray } from '@vnic/sys';
import { describe, expect, it } from 'vitest';
import { RxChainPool } from './RxChainPool.ts';

// Pure TS: guest memory is a plain buffer with a made-up host address (the pool only computes
// addresses, it never dereferences them); the driver side is core's DriverQueue.

const HOST = 0x7f00_0000_0000;
const SIZE = 16;
const BUF = 0x10000;

function setup(start = 0): { mem: GuestMemory; drv: DriverQueue; q: SplitQueue } {
  const mem = new GuestMemory([{ guestPhysAddr: 0, bytes: new Uint8Array(1 << 20), hostAddr: HOST }]);
  const layout = DriverQueue.layout(0x1000, SIZE);
  const drv = new DriverQueue({ size: SIZE, ...layout, eventIdx: true, start });
  drv.init(mem);
  const q = new SplitQueue({ size: SIZE, ...layout, eventIdx: true, indirectDesc: true });
  q.setState({ nextAvail: start, nextUsed: start });
  return { mem, drv, q };
}

/** Posts `n` writable buffers of `len` bytes (buffer i at BUF + i * 0x1000). */
function post(mem: GuestMemory, drv: DriverQueue, n: number, len: number, first = 0): number[] {
  const heads: number[] = [];
  for (let i = 0; i < n; i++) heads.push(drv.add(mem, [{ addr: BUF + (first + i) * 0x1000, len, writable: true }])!);
  drv.publish(mem);
  return heads;
}

/** A fake IoVecArray that records what is pushed. */
function iovRecorder(): IoVecArray & { entries: [number, number][] } {
  const entries: [number, number][] = [];
  return {
    entries,
    get length() {
      return entries.length;
    },
    push(addr: number | bigint, len: number) {
      entries.push([Number(addr), len]);
    },
    pushAt(src: Float64Array, at: number, len: number, offset = 0) {
      entries.push([src[at]! + offset, len]);
    },
  } as unknown as IoVecArray & { entries: [number, number][] };
}

describe('RxChainPool', () => {
  it('pops until the target is covered, resolves host addresses once, and hands chains out in order', () => {
    const { mem, drv, q } = setup();
    const heads = post(mem, drv, 8, 2048);
    const pool = new RxChainPool(1023);
    const bad = () => expect.unreachable('no unusable chain here');
    expect(pool.fill(mem, q, 5000, SIZE, bad)).toBe(3); // 3 * 2048 >= 5000
    expect(pool.capacity).toBe(6144);
    const iov = iovRecorder();
    expect(pool.fillIov(iov, mem, 4000, 1023)).toBe(4096); // whole chains only: two of them
    expect(iov.entries).toEqual([
      [HOST + BUF, 2048],
      [HOST + BUF + 0x1000, 2048],
    ]);
    expect(pool.countFor(2049)).toBe(2);
    const h: number[] = [];
    const l: number[] = [];
    expect(pool.consume(2049, h, l, 0)).toBe(2);
    expect(h).toEqual(heads.slice(0, 2));
    expect(l).toEqual([2048, 1]);
    expect(pool.length).toBe(1);
    expect(pool.firstHead()).toBe(heads[2]);
  });

  it('refuses, never holds, a chain below minCapacity or with more than maxBuffers buffers', () => {
    const { mem, drv, q } = setup();
    const small = drv.add(mem, [{ addr: BUF, len: 25, writable: true }])!;
    const long = drv.add(
      mem,
      [0, 1, 2].map((i) => ({ addr: BUF + 0x1000 + 64 * i, len: 64, writable: true })),
    )!;
    const [fits] = post(mem, drv, 1, 26, 4);
    const pool = new RxChainPool(2, 26);
    let unusable = 0;
    expect(pool.fill(mem, q, 1, SIZE, () => unusable++)).toBe(1);
    expect(unusable).toBe(2);
    expect(pool.firstHead()).toBe(fits);
    expect([drv.popUsed(mem), drv.popUsed(mem)]).toEqual([
      { id: small, len: 0 },
      { id: long, len: 0 },
    ]);
  });

  it('hands chains out in ring order over many frames (past the point where its array is compacted)', () => {
    const { mem, drv, q } = setup();
    const pool = new RxChainPool(1023);
    const bad = () => expect.unreachable('no unusable chain here');
    const order = post(mem, drv, SIZE, 1024); // the order the pool must hand chains out in
    let next = 0;
    const h: number[] = [];
    const l: number[] = [];
    for (let frame = 0; frame < 10_000; frame++) {
      pool.fill(mem, q, 4096, SIZE, bad);
      expect(pool.capacity).toBe(4096);
      const bytes = frame % 3 === 0 ? 1500 : 100; // two chains, or one
      const n = pool.consume(bytes, h, l, 0);
      expect(n).toBe(bytes > 1024 ? 2 : 1);
      expect(h.slice(0, n)).toEqual(order.slice(next, next + n));
      expect(l.slice(0, n)).toEqual(n === 2 ? [1024, 476] : [100]);
      expect(pool.firstHead()).toBe(order[next + n]);
      next += n;
      q.addUsedBatch(mem, h, l, n);
      // The driver takes the buffers back and posts them again, at the end of the ring.
      for (let u = drv.popUsed(mem); u !== undefined; u = drv.popUsed(mem)) {
        order.push(drv.add(mem, [{ addr: BUF + u.id * 0x1000, len: 1024, writable: true }])!);
      }
      drv.publish(mem);
    }
    expect(next).toBe(13_334);
    // Rewinding still finds the held chains: they go back to the ring, nothing returned as used.
    expect(pool.rewind(mem, q)).toBe(0);
    expect(q.nextAvail).toBe(next & 0xffff);
  });

  it('returns chains that cannot take a frame with used length 0 and reports them', () => {
    const { mem, drv, q } = setup();
    drv.add(mem, [{ addr: BUF, len: 8, writable: true }]); // < 12: no room for the header
    drv.add(mem, [{ addr: BUF, len: 64, writable: false }]); // nothing writable
    const good = drv.add(mem, [{ addr: BUF, len: 64, writable: true }])!;
    drv.publish(mem);
    let unusable = 0;
    const pool = new RxChainPool(1023);
    pool.fill(mem, q, 1 << 20, SIZE, () => unusable++);
    expect(unusable).toBe(2);
    expect(pool.length).toBe(1);
    expect(pool.firstHead()).toBe(good);
    expect(drv.popUsed(mem)).toMatchObject({ len: 0 });
    expect(drv.popUsed(mem)).toMatchObject({ len: 0 });
    // Too many buffers for one readv.
    const tight = new RxChainPool(1);
    drv.add(mem, [
      { addr: BUF, len: 64, writable: true },
      { addr: BUF + 64, len: 64, writable: true },
    ]);
    drv.publish(mem);
    let rejected = 0;
    tight.fill(mem, q, 1 << 20, SIZE, () => rejected++);
    expect(rejected).toBe(1);
  });

  it('copies frame bytes across buffers and chains', () => {
    const { mem, drv, q } = setup();
    drv.add(mem, [
      { addr: BUF, len: 14, writable: true },
      { addr: BUF + 0x100, len: 4, writable: true },
    ]);
    drv.add(mem, [{ addr: BUF + 0x200, len: 100, writable: true }]);
    drv.publish(mem);
    mem.write(BUF + 12, Uint8Array.of(1, 2));
    mem.write(BUF + 0x100, Uint8Array.of(3, 4, 5, 6));
    mem.write(BUF + 0x200, Uint8Array.of(7, 8, 9));
    const pool = new RxChainPool(1023);
    pool.fill(mem, q, 1 << 20, SIZE, () => undefined);
    const out = new Uint8Array(9);
    expect(pool.copyOut(mem, 12, out)).toBe(9);
    expect([...out]).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('copies a frame tail into the held chains at a byte offset, across buffers and chains (copyIn)', () => {
    const { mem, drv, q } = setup();
    // chain 0: one buffer of 16 bytes; chain 1: two buffers of 4 and 10 bytes
    drv.add(mem, [{ addr: BUF, len: 16, writable: true }]);
    drv.add(mem, [
      { addr: BUF + 0x1000, len: 4, writable: true },
      { addr: BUF + 0x2000, len: 10, writable: true },
    ]);
    drv.publish(mem);
    const pool = new RxChainPool(1023);
    pool.fill(mem, q, 1 << 20, SIZE, () => expect.unreachable('both chains are usable'));
    expect(pool.capacity).toBe(30);
    const src = Uint8Array.from({ length: 9 }, (_, i) => 0xa0 + i);
    expect(pool.copyIn(mem, 14, src)).toBe(9);
    expect([...mem.slice(BUF + 14, 2)!]).toEqual([0xa0, 0xa1]);
    expect([...mem.slice(BUF + 0x1000, 4)!]).toEqual([0xa2, 0xa3, 0xa4, 0xa5]);
    expect([...mem.slice(BUF + 0x2000, 4)!]).toEqual([0xa6, 0xa7, 0xa8, 0]);
    expect([...mem.slice(BUF, 14)!].every((b) => b === 0)).toBe(true); // before the offset: untouched
    // what copyOut reads back is what copyIn wrote; past the chains nothing more is copied
    const back = new Uint8Array(9);
    expect(pool.copyOut(mem, 14, back)).toBe(9);
    expect([...back]).toEqual([...src]);
    expect(pool.copyIn(mem, 26, src)).toBe(4);
  });

  it('copies a window of a larger buffer both ways, small pieces and large, touching nothing outside it', () => {
    const { mem, drv, q } = setup();
    // chain 0: 20 bytes then 600 bytes (a piece past the byte-by-byte size); chain 1: 16 bytes
    drv.add(mem, [
      { addr: BUF, len: 20, writable: true },
      { addr: BUF + 0x1000, len: 600, writable: true },
    ]);
    drv.add(mem, [{ addr: BUF + 0x2000, len: 16, writable: true }]);
    drv.publish(mem);
    const pool = new RxChainPool(1023);
    pool.fill(mem, q, 1 << 20, SIZE, () => expect.unreachable('both chains are usable'));
    const slots = Uint8Array.from({ length: 2000 }, (_, i) => (i * 7 + 3) & 0xff);
    // 620 bytes of the slot at 1000 (20 + 592 + 8 across the three buffers, from offset 8 on).
    expect(pool.copyIn(mem, 8, slots, 1000, 620)).toBe(620);
    const want = (i: number): number => ((1000 + i) * 7 + 3) & 0xff;
    expect([...mem.slice(BUF, 8)!].every((b) => b === 0)).toBe(true);
    expect([...mem.slice(BUF + 8, 12)!]).toEqual(Array.from({ length: 12 }, (_, i) => want(i)));
    expect([...mem.slice(BUF + 0x1000, 600)!]).toEqual(Array.from({ length: 600 }, (_, i) => want(12 + i)));
    expect([...mem.slice(BUF + 0x2000, 16)!]).toEqual([...Array.from({ length: 8 }, (_, i) => want(612 + i)), 0, 0, 0, 0, 0, 0, 0, 0]);
    // Back into the middle of another buffer: only [300, 920) changes.
    const back = new Uint8Array(1200).fill(0xee);
    expect(pool.copyOut(mem, 8, back, 300, 620)).toBe(620);
    expect([...back.subarray(300, 920)]).toEqual([...slots.subarray(1000, 1620)]);
    expect(back.subarray(0, 300).every((b) => b === 0xee) && back.subarray(920).every((b) => b === 0xee)).toBe(true);
    // A window that does not fit its buffer copies nothing.
    expect(pool.copyOut(mem, 0, back, 1100, 200)).toBe(0);
    expect(pool.copyIn(mem, 0, slots, -1, 4)).toBe(0);
  });

  it('rewinds nextAvail over consecutively popped chains, across the u16 wrap', () => {
    const { mem, drv, q } = setup(0xfffe);
    post(mem, drv, 6, 1000);
    const pool = new RxChainPool(1023);
    pool.fill(mem, q, 1 << 20, SIZE, () => undefined);
    expect(pool.length).toBe(6);
    expect(q.nextAvail).toBe(4); // 0xfffe + 6, wrapped
    pool.consume(1500, [], [], 0); // two chains used
    expect(pool.resumePoint(q).nextAvail).toBe(0);
    expect(pool.rewind(mem, q)).toBe(0);
    expect(q.nextAvail).toBe(0); // 0xfffe + 2
    expect(pool.length).toBe(0);
    // A new queue resuming from there pops the same four chains again.
    const again = new RxChainPool(1023);
    again.fill(mem, q, 1 << 20, SIZE, () => undefined);
    expect(again.length).toBe(4);
  });

  it('packed ring: rewinds over the trailing chains (positions and wrap counter back), the next pop takes them again', () => {
    const mem = new GuestMemory([{ guestPhysAddr: 0, bytes: new Uint8Array(1 << 20), hostAddr: HOST }]);
    const size = 6;
    const l = PackedDriverQueue.layout(0x1000, size);
    const cfg = { size, descRing: l.descRing, driverEvent: l.driverEvent, deviceEvent: l.deviceEvent, eventIdx: true };
    const drv = new PackedDriverQueue(cfg);
    drv.init(mem);
    const q = new PackedQueue({ ...cfg, indirectDesc: true, inOrder: false });
    const bad = () => expect.unreachable('no unusable chain here');
    // One lap and a half: the rewind crosses the ring's end, flipping the wrap counter back.
    for (let round = 0; round < 3; round++) {
      const ids = [0, 1, 2, 3].map((k) => drv.add(mem, [{ addr: BUF + k * 0x1000, len: 1000, writable: true }])!);
      drv.publish(mem);
      const before = q.getState();
      const pool = new RxChainPool(1023);
      expect(pool.fill(mem, q, 1 << 20, size, bad)).toBe(4);
      const h: number[] = [];
      const n = pool.consume(1500, h, [], 0); // two chains filled
      expect(h.slice(0, n)).toEqual(ids.slice(0, 2));
      const resume = pool.resumePoint(q);
      expect(pool.rewind(mem, q)).toBe(0);
      expect(q.getState()).toEqual(resume);
      expect(resume).not.toEqual(before);
      q.addUsedBatch(mem, h, [1500, 0], n);
      const again = new RxChainPool(1023);
      expect(again.fill(mem, q, 1 << 20, size, bad)).toBe(2);
      expect(again.firstHead()).toBe(ids[2]);
      const h2: number[] = [];
      again.consume(2000, h2, [], 0);
      q.addUsedBatch(mem, h2, [1000, 1000], 2);
      expect([0, 1, 2, 3].map(() => drv.popUsed(mem)?.id)).toEqual(ids);
    }
    expect(q.malformed).toBe(0);
    expect(q.needsReset).toBe(false);
  });

  it('never rewinds over a malformed chain pop() already returned: chains before it go back as used', () => {
    const { mem, drv, q } = setup();
    const [a, b] = post(mem, drv, 2, 1000, 0);
    // A malformed chain next: its address is outside guest memory.
    const r = SIZE - 1;
    drv.writeDescriptor(mem, r, { addr: 1 << 21, len: 64, flags: VIRTQ_DESC_F_WRITE, next: 0 });
    drv.pushAvailRaw(mem, r);
    drv.publish(mem);
    const [c] = post(mem, drv, 1, 1000, 2);
    const pool = new RxChainPool(1023);
    pool.fill(mem, q, 1 << 20, SIZE, () => undefined);
    expect(q.malformed).toBe(1);
    expect(pool.length).toBe(3);
    expect(q.nextAvail).toBe(4);
    expect(pool.resumePoint(q).nextAvail).toBe(3); // only c is rewindable
    expect(pool.rewind(mem, q)).toBe(2); // a and b returned as used, length 0
    expect(q.nextAvail).toBe(3);
    const used = [drv.popUsed(mem), drv.popUsed(mem), drv.popUsed(mem)];
    expect(used).toEqual([
      { id: r, len: 0 },
      { id: a, len: 0 },
      { id: b, len: 0 },
    ]);
    // The malformed chain is not popped (or returned) a second time; c comes back.
    const again = new RxChainPool(1023);
    again.fill(mem, q, 1 << 20, SIZE, () => undefined);
    expect(again.firstHead()).toBe(c);
    expect(q.malformed).toBe(1);
  });

  it('trailing malformed chains make nothing rewindable', () => {
    const { mem, drv, q } = setup();
    post(mem, drv, 1, 1000);
    drv.writeDescriptor(mem, SIZE - 1, { addr: 1 << 21, len: 64, flags: VIRTQ_DESC_F_WRITE, next: 0 });
    drv.pushAvailRaw(mem, SIZE - 1);
    drv.publish(mem);
    const pool = new RxChainPool(1023);
    pool.fill(mem, q, 1 << 20, SIZE, () => undefined);
    expect(pool.length).toBe(1);
    expect(pool.resumePoint(q).nextAvail).toBe(2);
    expect(pool.rewind(mem, q)).toBe(1);
    expect(q.nextAvail).toBe(2);
  });
});
