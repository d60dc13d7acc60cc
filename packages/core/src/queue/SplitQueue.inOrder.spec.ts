import { describe, expect, it } from 'vitest';
import { GuestMemory } from '../memory/GuestMemory.ts';
import { DriverQueue } from './DriverQueue.ts';
import { SplitQueue } from './SplitQueue.ts';

// VIRTIO_F_IN_ORDER on split rings (virtio 1.2 §2.7.9): the device's SplitQueue and the driver's
// DriverQueue, both with inOrder, on one ring; what the driver reads is checked against the used
// ring's raw bytes.

const BASE = 0x10000;
const DATA = 0x14000;
const HOLE = 0x90000; // outside guest memory

function ring(size = 8, start = 0): { mem: GuestMemory; drv: DriverQueue; dev: SplitQueue } {
  const mem = new GuestMemory([{ guestPhysAddr: BASE, bytes: new Uint8Array(0x10000) }]);
  const l = DriverQueue.layout(BASE, size);
  const cfg = { size, descTable: l.descTable, availRing: l.availRing, usedRing: l.usedRing, eventIdx: false, inOrder: true };
  const drv = new DriverQueue({ ...cfg, start });
  drv.init(mem);
  const dev = new SplitQueue({ ...cfg, indirectDesc: true });
  dev.setState({ nextAvail: start, nextUsed: start });
  expect(dev.validate(mem)).toBeUndefined();
  return { mem, drv, dev };
}

type Ring = ReturnType<typeof ring>;

/** used->idx and the used ring element at position `i` (id, len), read from guest memory. */
function usedIdx(t: Ring): number {
  return t.mem.regionOf(t.dev.usedRing, 4)!.view.getUint16(t.dev.usedRing + 2 - BASE, true);
}
function elem(t: Ring, i: number): { id: number; len: number } {
  const v = t.mem.regionOf(t.dev.usedRing, 4)!.view;
  const off = t.dev.usedRing + 4 + 8 * (i % t.dev.size) - BASE;
  return { id: v.getUint32(off, true), len: v.getUint32(off + 4, true) };
}

function post(t: Ring, n: number, writable: boolean, len = 64): number[] {
  const heads = Array.from({ length: n }, () => t.drv.add(t.mem, [{ addr: DATA, len, writable }])!);
  t.drv.publish(t.mem);
  for (const h of heads) expect(t.dev.pop(t.mem)?.head).toBe(h);
  return heads;
}

describe('SplitQueue with VIRTIO_F_IN_ORDER', () => {
  it('writes a run of TX chains as one used element with the last head, where the run began, and moves used->idx past the run', () => {
    const t = ring();
    const heads = post(t, 3, false);
    expect(heads).toEqual([0, 1, 2]); // the in-order driver hands descriptors out in ring order
    t.dev.addUsedBatch(t.mem, heads, [0, 0, 0]);
    expect(usedIdx(t)).toBe(3);
    expect(elem(t, 0)).toEqual({ id: 2, len: 0 });
    expect(elem(t, 1)).toEqual({ id: 0, len: 0 }); // never written: the driver skips it
    expect([0, 1, 2].map(() => t.drv.popUsed(t.mem))).toEqual(heads.map((id) => ({ id, len: 0 })));
    expect(t.drv.popUsed(t.mem)).toBeUndefined();
    // The next run starts where this one ended, in ring order again.
    expect(post(t, 2, false)).toEqual([3, 4]);
  });

  it('gives every chain with device-writable bytes its own element, filled or not', () => {
    const t = ring();
    const heads = post(t, 3, true, 100);
    t.dev.addUsedBatch(t.mem, heads, [100, 40, 100]);
    expect([0, 1, 2].map((i) => elem(t, i))).toEqual([
      { id: heads[0], len: 100 },
      { id: heads[1], len: 40 },
      { id: heads[2], len: 100 },
    ]);
    expect(usedIdx(t)).toBe(3);
  });

  it('holds a completion back until every chain made available before it is used', () => {
    const t = ring();
    const heads = post(t, 3, false);
    t.dev.addUsed(t.mem, heads[2]!, 0);
    t.dev.addUsed(t.mem, heads[1]!, 0);
    expect(usedIdx(t)).toBe(0);
    expect(t.drv.popUsed(t.mem)).toBeUndefined();
    t.dev.addUsed(t.mem, heads[0]!, 0);
    expect(usedIdx(t)).toBe(3);
    expect(elem(t, 0)).toEqual({ id: heads[2], len: 0 });
    expect([0, 1, 2].map(() => t.drv.popUsed(t.mem)?.id)).toEqual(heads);
  });

  it('returns a malformed chain (length 0, its own element) only after the chains before it', () => {
    const t = ring();
    const a = t.drv.add(t.mem, [{ addr: DATA, len: 8, writable: true }])!;
    const bad = t.drv.add(t.mem, [{ addr: HOLE, len: 8, writable: false }])!;
    const c = t.drv.add(t.mem, [{ addr: DATA, len: 8, writable: false }])!;
    t.drv.publish(t.mem);
    expect(t.dev.pop(t.mem)?.head).toBe(a);
    expect(t.dev.pop(t.mem)?.head).toBe(c);
    expect(t.dev.malformed).toBe(1);
    expect(usedIdx(t)).toBe(0);
    t.dev.addUsedBatch(t.mem, [c, a], [0, 5]);
    expect([0, 1, 2].map((i) => elem(t, i))).toEqual([
      { id: a, len: 5 },
      { id: bad, len: 0 },
      { id: c, len: 0 },
    ]);
    expect([0, 1, 2].map(() => t.drv.popUsed(t.mem))).toEqual([
      { id: a, len: 5 },
      { id: bad, len: 0 },
      { id: c, len: 0 },
    ]);
    // With nothing before it, a malformed chain goes back at once.
    t.drv.add(t.mem, [{ addr: HOLE, len: 8, writable: false }]);
    t.drv.publish(t.mem);
    expect(t.dev.pop(t.mem)).toBeUndefined();
    expect(t.drv.popUsed(t.mem)?.len).toBe(0);
  });

  it('unpop gives the last chains back to the ring and to the order; across the u16 index wrap', () => {
    const t = ring(4, 0xfffe);
    const heads = post(t, 3, false);
    t.dev.unpop(1);
    expect(t.dev.pop(t.mem)?.head).toBe(heads[2]);
    t.dev.addUsedBatch(t.mem, heads, [0, 0, 0]);
    expect(usedIdx(t)).toBe(1); // 0xfffe + 3
    expect(elem(t, 0xfffe)).toEqual({ id: heads[2], len: 0 });
    expect([0, 1, 2].map(() => t.drv.popUsed(t.mem)?.id)).toEqual(heads);
    // Round and round: 40 runs of 3 over a ring of 4, every buffer back exactly once.
    for (let k = 0; k < 40; k++) {
      const more = post(t, 3, false);
      t.dev.addUsedBatch(t.mem, more, [0, 0, 0]);
      expect([0, 1, 2].map(() => t.drv.popUsed(t.mem)?.id)).toEqual(more);
    }
    expect(t.drv.numFree).toBe(4);
  });
});
