import { DriverQueue, GuestMemory, SplitQueue } from '@vnic/core';
import { describe, expect, it } from 'vitest';
import { RingRecycler } from './RingRecycler.ts';

const BASE = 0x10000;
const DATA = 0x18000;

/** A driver ring full of one-buffer chains, a SplitQueue as the device, and a recycler over them. */
function setup(opts: { size: number; eventIdx: boolean; start?: number }) {
  const mem = new GuestMemory([{ guestPhysAddr: BASE, bytes: new Uint8Array(0x10000) }]);
  const l = DriverQueue.layout(BASE, opts.size);
  const ring = { size: opts.size, descTable: l.descTable, availRing: l.availRing, usedRing: l.usedRing, eventIdx: opts.eventIdx };
  const start = opts.start ?? 0;
  const drv = new DriverQueue({ ...ring, start });
  drv.init(mem);
  for (let i = 0; i < opts.size; i++) drv.add(mem, [{ addr: DATA + 64 * i, len: 64, writable: false }]);
  drv.publish(mem);
  const dev = new SplitQueue({ ...ring, indirectDesc: false });
  dev.setState({ nextAvail: start, nextUsed: start });
  let kicks = 0;
  const rec = new RingRecycler(mem, drv, () => kicks++);
  /** The device takes up to `n` chains and returns them with `len`; returns the heads in order. */
  const device = (n: number, len = 60): number[] => {
    const heads: number[] = [];
    for (let i = 0; i < n; i++) {
      const c = dev.pop(mem);
      if (c === undefined) break;
      expect(c.readableLength).toBe(64); // the descriptor still names the same buffer
      heads.push(c.head);
    }
    dev.addUsedBatch(
      mem,
      heads,
      heads.map(() => len),
      heads.length,
    );
    return heads;
  };
  return { mem, drv, dev, rec, device, kicks: () => kicks };
}

describe('RingRecycler (the bench guest)', () => {
  it('puts every used head back into the available ring, in order, and counts elements and bytes', () => {
    const t = setup({ size: 8, eventIdx: false });
    expect(t.rec.pump()).toBe(0);
    const first = t.device(5, 60);
    expect(t.rec.pending()).toBe(5);
    expect(t.rec.pump()).toBe(5);
    expect(t.rec.elements).toBe(5);
    expect(t.rec.bytes).toBe(300);
    // the device sees the ring full again: 3 left from the first round, then the 5 recycled heads
    const second = t.device(8, 0);
    expect(second.slice(3)).toEqual(first);
    expect(t.rec.pump()).toBe(8);
    expect(t.rec.zeroLength).toBe(8);
    expect(t.dev.pending(t.mem)).toBe(8);
  });

  it('keeps the ring going across index wrap-around for many rounds', () => {
    const t = setup({ size: 4, eventIdx: true, start: 0xfffd });
    for (let round = 0; round < 50; round++) {
      expect(t.device(round % 4 === 0 ? 4 : 3)).toHaveLength(round % 4 === 0 ? 4 : 3);
      t.rec.pump();
    }
    expect(t.rec.elements).toBe(13 * 4 + 37 * 3);
    expect(t.dev.pending(t.mem)).toBe(4);
  });

  it('kicks only when the device asked for it (EVENT_IDX avail_event)', () => {
    const t = setup({ size: 8, eventIdx: true });
    t.dev.disableNotification(t.mem); // the device is busy: no kick needed
    t.device(4);
    t.rec.pump();
    expect(t.kicks()).toBe(0);
    expect(t.device(8)).toHaveLength(8);
    expect(t.dev.enableNotification(t.mem)).toBe(false); // the device ran dry and waits for a kick
    t.rec.pump();
    expect(t.kicks()).toBe(1);
  });

  it('kicks unless the device set VIRTQ_USED_F_NO_NOTIFY (no EVENT_IDX)', () => {
    const t = setup({ size: 8, eventIdx: false });
    t.dev.disableNotification(t.mem);
    t.device(2);
    t.rec.pump();
    expect(t.kicks()).toBe(0);
    t.dev.enableNotification(t.mem);
    t.device(2);
    t.rec.pump();
    expect(t.kicks()).toBe(1);
  });

  it('asks the device not to interrupt it (it polls)', () => {
    const t = setup({ size: 8, eventIdx: true });
    t.device(3);
    expect(t.dev.needsNotification(t.mem)).toBe(false);
    t.rec.pump();
    t.device(8);
    expect(t.dev.needsNotification(t.mem)).toBe(false);
  });

  it('refuses a used index that ran more than the queue size ahead', () => {
    const t = setup({ size: 8, eventIdx: false });
    const l = DriverQueue.layout(BASE, 8);
    t.mem.slice(l.usedRing + 2, 2)!.set([9, 0]);
    expect(() => t.rec.pump()).toThrow(/used->idx ran 9 entries ahead of a queue of 8/);
  });
});
