import { describe, expect, it } from 'vitest';
import { GuestMemory } from '../memory/GuestMemory.ts';
import { PackedDriverQueue } from './PackedDriverQueue.ts';
import { PackedQueue } from './PackedQueue.ts';

const BASE = 0x4000;
const DATA = 0x8000;

function pair(size: number, opts: { inOrder?: boolean; start?: number } = {}) {
  const mem = new GuestMemory([{ guestPhysAddr: BASE, bytes: new Uint8Array(0x8000) }]);
  const l = PackedDriverQueue.layout(BASE, size);
  const ring = { size, descRing: l.descRing, driverEvent: l.driverEvent, deviceEvent: l.deviceEvent, eventIdx: false };
  const drv = new PackedDriverQueue({ ...ring, inOrder: opts.inOrder ?? false, start: opts.start ?? 0 });
  drv.init(mem);
  const dev = new PackedQueue({ ...ring, indirectDesc: true, inOrder: opts.inOrder ?? false });
  dev.setState({ nextAvail: opts.start ?? 0, nextUsed: opts.start ?? 0 });
  expect(dev.validate(mem)).toBeUndefined();
  return { mem, drv, dev, l };
}

/** `fn` throws a VnicError of `kind` whose message matches. */
function throwsVnic(fn: () => unknown, kind: string, message: RegExp): void {
  expect(fn).toThrow(expect.objectContaining({ name: 'VnicError', kind, message: expect.stringMatching(message) }));
}

const one = [{ addr: DATA, len: 8, writable: false }] as const;

describe('PackedDriverQueue', () => {
  it('layout: a 16-aligned ring, then the driver and the device event structures, 4 bytes each', () => {
    expect(PackedDriverQueue.layout(0x1001, 3)).toEqual({ descRing: 0x1010, driverEvent: 0x1040, deviceEvent: 0x1044, end: 0x1048, bytes: 0x47 });
    expect(PackedDriverQueue.layout(0, 32768).end).toBe(16 * 32768 + 8);
    throwsVnic(() => PackedDriverQueue.layout(-1, 4), 'invalid-argument', /queue base -1/);
    throwsVnic(() => PackedDriverQueue.layout(0, 0), 'invalid-argument', /packed queue size 0 is not between 1 and 32768/);
    throwsVnic(() => PackedDriverQueue.layout(0, 32769), 'invalid-argument', /32769/);
  });

  it('refuses misaligned parts and a start position outside the ring', () => {
    const ok = { size: 4, descRing: 0x100, driverEvent: 0x140, deviceEvent: 0x144, eventIdx: false };
    throwsVnic(() => new PackedDriverQueue({ ...ok, descRing: 0x108 }), 'invalid-argument', /descriptor ring address 264 must be a 16-aligned/);
    throwsVnic(() => new PackedDriverQueue({ ...ok, driverEvent: 0x142 }), 'invalid-argument', /driver event suppression address/);
    throwsVnic(() => new PackedDriverQueue({ ...ok, deviceEvent: 0x146 }), 'invalid-argument', /device event suppression address/);
    throwsVnic(() => new PackedDriverQueue({ ...ok, start: 4 }), 'invalid-argument', /start position 4 is not in 0..3/);
  });

  it('add: refuses an empty list, a direct list longer than the ring and a table outside memory; undefined when full', () => {
    const { mem, drv } = pair(3);
    throwsVnic(() => drv.add(mem, []), 'invalid-argument', /at least one element/);
    throwsVnic(() => drv.add(mem, [...one, ...one, ...one, ...one]), 'invalid-argument', /list of 4 descriptors does not fit a queue of 3/);
    throwsVnic(() => drv.add(mem, one, { indirect: { tableAddr: 0x1_0000 } }), 'invalid-argument', /indirect table at 0x10000 is outside guest memory/);
    expect(drv.add(mem, [...one, ...one])).toBeDefined();
    expect(drv.numFree).toBe(1);
    expect(drv.add(mem, [...one, ...one])).toBeUndefined(); // needs 2, 1 free
    expect(drv.add(mem, [...one, ...one, ...one], { indirect: { tableAddr: DATA } })).toBeDefined(); // one ring descriptor
    expect(drv.add(mem, one)).toBeUndefined();
  });

  it('a device returning an id not in flight is a device bug: popUsed throws, after skipping the descriptor', () => {
    const { mem, drv, l } = pair(4);
    // A used descriptor (AVAIL = USED = 1) with id 3, never handed out.
    PackedDriverQueue.writeDescriptorAt(mem, l.descRing, { addr: 0, len: 0, id: 3, flags: 0x8080 });
    expect(drv.usedPending(mem)).toBe(0);
    throwsVnic(() => drv.popUsed(mem), 'invalid-state', /used id 3, which is not in flight/);
    expect(drv.nextUsed).toEqual({ pos: 1, wrap: true });
  });

  it('usedPending counts buffers, not descriptors, and with IN_ORDER the buffers one used descriptor stands for', () => {
    const t = pair(8, { inOrder: true });
    const ids = [t.drv.add(t.mem, [...one, ...one])!, t.drv.add(t.mem, one)!, t.drv.add(t.mem, one)!];
    t.drv.publish(t.mem);
    for (const id of ids) expect(t.dev.pop(t.mem)?.head).toBe(id);
    t.dev.addUsedBatch(t.mem, ids, [0, 0, 0]);
    expect(t.drv.usedPending(t.mem)).toBe(3);
    expect(t.drv.popUsed(t.mem)).toEqual({ id: ids[0], len: 0 });
    expect(t.drv.usedPending(t.mem)).toBe(2);
    expect(t.drv.popUsed(t.mem)?.id).toBe(ids[1]);
    expect(t.drv.popUsed(t.mem)?.id).toBe(ids[2]);
    expect(t.drv.usedPending(t.mem)).toBe(0);
    expect(t.drv.nextUsed).toEqual({ pos: 4, wrap: true });
  });

  it('init with a start position marks the descriptors before it used in lap 1, so lap 2 never mistakes them for used', () => {
    const t = pair(4, { start: 2 });
    const rd = (p: number): number => {
      const b = t.mem.read(t.l.descRing + 16 * p + 14, 2)!;
      return b[0]! | (b[1]! << 8);
    };
    expect([rd(0), rd(1), rd(2), rd(3)]).toEqual([0x8080, 0x8080, 0, 0]);
    // Run positions 2, 3 (lap 1): the ring is empty at position 0 of lap 2 and nothing reads as used.
    for (let i = 0; i < 2; i++) {
      t.drv.add(t.mem, one);
      t.drv.publish(t.mem);
      const c = t.dev.pop(t.mem)!;
      t.dev.addUsed(t.mem, c.head, 0);
      expect(t.drv.popUsed(t.mem)?.id).toBe(c.head);
    }
    expect(t.drv.nextUsed).toEqual({ pos: 0, wrap: false });
    expect(t.drv.popUsed(t.mem)).toBeUndefined();
    expect(t.dev.pop(t.mem)).toBeUndefined();
  });
});
