import { describe, expect, it } from 'vitest';
import { VIRTIO_F_EVENT_IDX, VIRTIO_F_INDIRECT_DESC, VIRTIO_F_IN_ORDER, featureBit } from '../defs/virtio.ts';
import type { QueueContext } from '../device/QueueContext.ts';
import { GuestMemory } from '../memory/GuestMemory.ts';
import { ChainArena } from './ChainArena.ts';
import { ChainError } from './ChainError.ts';
import type { DeviceQueue } from './DeviceQueue.ts';
import { DriverQueue } from './DriverQueue.ts';
import { PackedDriverQueue } from './PackedDriverQueue.ts';
import { packedQueueFor } from './packedQueueFor.ts';
import { packedVringBase } from './packedVringBase.ts';
import { splitQueueFor } from './splitQueueFor.ts';

const BASE = 0x1_0000;
const DATA = 0x1_8000;

/** A data plane written once against DeviceQueue: every chain gets `fill` in its writable part. */
function serve(q: DeviceQueue, mem: GuestMemory, fill: number): number {
  const heads: number[] = [];
  const lens: number[] = [];
  for (let c = q.pop(mem); c !== undefined; c = q.pop(mem)) {
    heads.push(c.head);
    lens.push(c.writeFrom(mem, new Uint8Array(c.writableLength).fill(fill)));
  }
  q.addUsedBatch(mem, heads, lens);
  return heads.length;
}

interface Driver {
  add(mem: GuestMemory, buffers: readonly { addr: number; len: number; writable: boolean }[]): number | undefined;
  publish(mem: GuestMemory): void;
  popUsed(mem: GuestMemory): { id: number; len: number } | undefined;
}

function qc(l: { descTable: number; availRing: number; usedRing: number }, size: number): QueueContext {
  return { index: 0, size, ...l, kickFd: -1, callFd: -1 };
}

describe('DeviceQueue: one data plane over split and packed rings', () => {
  const features = featureBit(VIRTIO_F_EVENT_IDX) | featureBit(VIRTIO_F_INDIRECT_DESC) | featureBit(VIRTIO_F_IN_ORDER);
  const rings: [string, (mem: GuestMemory) => { q: DeviceQueue; drv: Driver }][] = [
    [
      'split',
      (mem) => {
        const l = DriverQueue.layout(BASE, 8);
        const drv = new DriverQueue({ size: 8, descTable: l.descTable, availRing: l.availRing, usedRing: l.usedRing, eventIdx: true });
        drv.init(mem);
        return { q: splitQueueFor(qc(l, 8), features, mem), drv };
      },
    ],
    [
      'packed',
      (mem) => {
        const l = PackedDriverQueue.layout(BASE, 6);
        const drv = new PackedDriverQueue({
          size: 6,
          descRing: l.descRing,
          driverEvent: l.driverEvent,
          deviceEvent: l.deviceEvent,
          eventIdx: true,
          inOrder: true,
        });
        drv.init(mem);
        return { q: packedQueueFor(qc({ descTable: l.descRing, availRing: l.driverEvent, usedRing: l.deviceEvent }, 6), features, mem), drv };
      },
    ],
  ];
  for (const [name, make] of rings) {
    it(`${name}: buffers go round, with their bytes and lengths, several times round the ring`, () => {
      const mem = new GuestMemory([{ guestPhysAddr: BASE, bytes: new Uint8Array(0x1_0000) }]);
      const { q, drv } = make(mem);
      expect(q.validate(mem)).toBeUndefined();
      for (let round = 0; round < 10; round++) {
        const ids = [0, 1].map((k) => drv.add(mem, [{ addr: DATA + 0x100 * k, len: 16 + k, writable: true }])!);
        drv.publish(mem);
        expect(q.pending(mem)).toBe(2);
        expect(serve(q, mem, round)).toBe(2);
        expect([drv.popUsed(mem), drv.popUsed(mem)]).toEqual([
          { id: ids[0], len: 16 },
          { id: ids[1], len: 17 },
        ]);
        expect(mem.read(DATA + 0x100, 17)).toEqual(new Uint8Array(17).fill(round));
      }
      expect(q.malformed).toBe(0);
      expect(q.needsReset).toBe(false);
    });

    it(`${name}: popInto parses into an arena, unpop gives the last chains back (across ring laps), rewoundState says where`, () => {
      const mem = new GuestMemory([{ guestPhysAddr: BASE, bytes: new Uint8Array(0x1_0000) }]);
      const { q, drv } = make(mem);
      const arena = new ChainArena(4, q.size);
      for (let round = 0; round < 7; round++) {
        // Lists of 2 and 1 buffers: packed positions move by 2 and 1, so laps end mid-list too.
        const a = drv.add(mem, [
          { addr: DATA, len: 10, writable: false },
          { addr: DATA + 0x40, len: 20 + round, writable: true },
        ])!;
        const b = drv.add(mem, [{ addr: DATA + 0x100, len: 30, writable: true }])!;
        drv.publish(mem);
        const before = q.getState();
        const seq = q.popSeq;
        arena.clear();
        expect(q.popInto(mem, arena) && q.popInto(mem, arena)).toBe(true);
        expect(q.popInto(mem, arena)).toBe(false);
        expect([arena.head[0], arena.head[1]]).toEqual([a, b]);
        expect([arena.availPos[0], arena.availPos[1]]).toEqual([seq, (seq + 1) & 0xffff]);
        expect([arena.descCount[0], arena.firstWritable[0], arena.readable[0], arena.writable[0]]).toEqual([2, 1, 10, 20 + round]);
        expect(Array.from(arena.addr.subarray(arena.descStart[1], arena.descStart[1]! + 1))).toEqual([DATA + 0x100]);
        const afterFirst = q.rewoundState(1);
        expect(q.rewoundState(2)).toEqual(before);
        q.unpop(2);
        expect(q.getState()).toEqual(before);
        expect(q.popSeq).toBe(seq);
        // Popped again: the same two chains, the first used, the second given back once more.
        arena.clear();
        expect(q.popInto(mem, arena) && q.popInto(mem, arena)).toBe(true);
        expect([arena.head[0], arena.head[1]]).toEqual([a, b]);
        q.unpop(1);
        expect(q.getState().nextAvail).toBe(afterFirst.nextAvail);
        q.addUsed(mem, a, 5);
        expect(drv.popUsed(mem)).toEqual({ id: a, len: 5 });
        arena.clear();
        expect(q.popInto(mem, arena)).toBe(true);
        expect(arena.head[0]).toBe(b);
        q.addUsed(mem, b, 0);
        expect(drv.popUsed(mem)).toEqual({ id: b, len: 0 });
      }
      expect(q.malformed).toBe(0);
      expect(q.needsReset).toBe(false);
    });
  }
});

describe('packedQueueFor', () => {
  it('maps the Descriptor, Driver and Device Areas, takes the features and restores the state', () => {
    const mem = new GuestMemory([{ guestPhysAddr: BASE, bytes: new Uint8Array(0x1000) }]);
    const q = packedQueueFor(
      {
        ...qc({ descTable: BASE, availRing: BASE + 0x100, usedRing: BASE + 0x104 }, 5),
        state: { nextAvail: 2, nextUsed: 1, availWrap: false, usedWrap: false },
      },
      featureBit(VIRTIO_F_IN_ORDER),
      mem,
    );
    expect([q.descRing, q.driverEvent, q.deviceEvent, q.size]).toEqual([BASE, BASE + 0x100, BASE + 0x104, 5]);
    expect([q.eventIdx, q.indirectDesc, q.inOrder]).toEqual([false, false, true]);
    expect(q.getState()).toEqual({ nextAvail: 2, nextUsed: 1, availWrap: false, usedWrap: false });
    expect(q.needsReset).toBe(false);
    const bad = packedQueueFor(qc({ descTable: BASE + 0xff0, availRing: BASE, usedRing: BASE + 4 }, 5), 0n, mem);
    expect(bad.brokenReason).toBe(ChainError.PACKED_RING_OUT_OF_MEMORY);
  });
});

describe('packedVringBase', () => {
  it('packs positions and wrap counters the way vhost SET/GET_VRING_BASE carries them for packed rings', () => {
    expect(packedVringBase.encode({ nextAvail: 0, nextUsed: 0 })).toBe(0x8000_8000);
    expect(packedVringBase.encode({ nextAvail: 5, nextUsed: 3, availWrap: false, usedWrap: true })).toBe(0x8003_0005);
    expect(packedVringBase.encode({ nextAvail: 0x7fff, nextUsed: 0x7fff, availWrap: true, usedWrap: false })).toBe(0x7fff_ffff);
    expect(packedVringBase.decode(0x8003_0005)).toEqual({ nextAvail: 5, availWrap: false, nextUsed: 3, usedWrap: true });
    expect(packedVringBase.decode(0x0000_8001)).toEqual({ nextAvail: 1, availWrap: true, nextUsed: 0, usedWrap: false });
  });
});
