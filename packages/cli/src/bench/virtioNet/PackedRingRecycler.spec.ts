import { GuestMemory, PackedDriverQueue, PackedQueue } from '@vnic/core';
import { describe, expect, it } from 'vitest';
import { PackedRingRecycler } from './PackedRingRecycler.ts';

const BASE = 0x10000;
const DATA = 0x18000;

/** A packed driver ring full of one-buffer lists, a PackedQueue as the device, and a recycler over them. */
function setup(size: number, eventIdx: boolean) {
  const mem = new GuestMemory([{ guestPhysAddr: BASE, bytes: new Uint8Array(0x10000) }]);
  const l = PackedDriverQueue.layout(BASE, size);
  const ring = { size, descRing: l.descRing, driverEvent: l.driverEvent, deviceEvent: l.deviceEvent, eventIdx };
  const drv = new PackedDriverQueue(ring);
  drv.init(mem);
  for (let i = 0; i < size; i++) drv.add(mem, [{ addr: DATA + 128 * i, len: 76, writable: false }]);
  drv.publish(mem);
  const dev = new PackedQueue({ ...ring, indirectDesc: false, inOrder: false });
  let kicks = 0;
  // The device takes two first, before the recycler takes over (the bench's sendBatch kicks).
  const early = [dev.pop(mem)!, dev.pop(mem)!];
  dev.addUsedBatch(mem, [early[0]!.head, early[1]!.head], [0, 0]);
  const rec = new PackedRingRecycler(mem, drv, 76, () => kicks++);
  /** The device takes up to `n` lists, checks each still names its buffer, returns them with length 0. */
  const device = (n: number): number[] => {
    const ids: number[] = [];
    for (let i = 0; i < n; i++) {
      const c = dev.pop(mem);
      if (c === undefined) break;
      expect(c.descriptors.map((d) => [d.addr, d.len])).toEqual([[DATA + 128 * c.head, 76]]);
      ids.push(c.head);
    }
    dev.addUsedBatch(
      mem,
      ids,
      ids.map(() => 0),
    );
    return ids;
  };
  return { mem, dev, rec, device, kicks: () => kicks };
}

describe('PackedRingRecycler (the bench guest on a packed ring)', () => {
  for (const eventIdx of [false, true]) {
    it(`keeps the ring full over many laps, each buffer back with its address and length (EVENT_IDX ${eventIdx})`, () => {
      const t = setup(8, eventIdx);
      expect(t.rec.pump()).toBe(2); // the two the device used before the take-over
      let total = 2;
      for (let round = 0; round < 50; round++) {
        const n = 1 + (round % 8);
        expect(t.device(n)).toHaveLength(n);
        expect(t.rec.pump()).toBe(n);
        total += n;
      }
      expect(t.rec.elements).toBe(total);
      expect(t.rec.zeroLength).toBe(total);
      expect(t.dev.malformed).toBe(0);
      expect(t.dev.needsReset).toBe(false);
      expect(t.dev.pending(t.mem)).toBe(8); // full again
    });
  }

  it('puts every buffer back with its own address when the device completes out of order', () => {
    const t = setup(8, true);
    expect(t.rec.pump()).toBe(2);
    for (let round = 0; round < 20; round++) {
      const ids: number[] = [];
      for (let i = 0; i < 5; i++) {
        const c = t.dev.pop(t.mem)!;
        expect(c.descriptors.map((d) => [d.addr, d.len])).toEqual([[DATA + 128 * c.head, 76]]);
        ids.push(c.head);
      }
      ids.reverse(); // the used descriptors name the buffers last to first: each lands where another one's address is
      t.dev.addUsedBatch(
        t.mem,
        ids,
        ids.map(() => 0),
      );
      expect(t.rec.pump()).toBe(5);
      expect(t.device(3)).toHaveLength(3);
      expect(t.rec.pump()).toBe(3);
    }
    expect(t.dev.malformed).toBe(0);
    expect(t.dev.needsReset).toBe(false);
  });

  it('kicks only when the device asks: not while it says DISABLE, once after it enables notifications', () => {
    const t = setup(8, false);
    t.dev.disableNotification(t.mem);
    t.rec.pump();
    t.device(3);
    t.rec.pump();
    expect(t.kicks()).toBe(0);
    t.dev.enableNotification(t.mem);
    t.device(2);
    t.rec.pump();
    expect(t.kicks()).toBe(1);
  });
});
