import { describe, expect, it } from 'vitest';
import { VIRTQ_AVAIL_F_NO_INTERRUPT, VIRTQ_DESC_F_INDIRECT, VIRTQ_DESC_F_NEXT, VIRTQ_DESC_F_WRITE } from '../defs/virtio.ts';
import { VnicError } from '../errors/VnicError.ts';
import { GuestMemory } from '../memory/GuestMemory.ts';
import { DriverQueue, type DriverBuffer, type DriverQueueLayout } from './DriverQueue.ts';
import { SplitQueue } from './SplitQueue.ts';

const BASE = 0x10000;
const DATA = 0x14000;
const TABLE = 0x18000;

interface Setup {
  readonly mem: GuestMemory;
  readonly drv: DriverQueue;
  readonly dev: SplitQueue;
  readonly l: DriverQueueLayout;
}

function setup(opts: { size?: number; eventIdx?: boolean; start?: number } = {}): Setup {
  const mem = new GuestMemory([{ guestPhysAddr: BASE, bytes: new Uint8Array(0x10000) }]);
  const size = opts.size ?? 8;
  const l = DriverQueue.layout(BASE, size);
  const ring = { size, descTable: l.descTable, availRing: l.availRing, usedRing: l.usedRing, eventIdx: opts.eventIdx ?? false };
  const drv = new DriverQueue({ ...ring, start: opts.start ?? 0 });
  drv.init(mem);
  const dev = new SplitQueue({ ...ring, indirectDesc: true });
  dev.setState({ nextAvail: opts.start ?? 0, nextUsed: opts.start ?? 0 });
  expect(dev.validate(mem)).toBeUndefined();
  return { mem, drv, dev, l };
}

function rd16(mem: GuestMemory, gpa: number): number {
  const s = mem.slice(gpa, 2)!;
  return s[0]! | (s[1]! << 8);
}

function expectVnicError(fn: () => unknown, kind: string, message: RegExp): void {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(VnicError.is(error), `expected a VnicError matching ${message}`).toBe(true);
  expect((error as VnicError).kind).toBe(kind);
  expect((error as VnicError).message).toMatch(message);
}

/** Device side of one round: pop everything, write `fill` into each chain, return it as used. */
function deviceServe(t: Setup, fill: number): number[] {
  const heads: number[] = [];
  for (let c = t.dev.pop(t.mem); c !== undefined; c = t.dev.pop(t.mem)) {
    const n = c.writeFrom(t.mem, new Uint8Array(c.writableLength).fill(fill));
    t.dev.addUsed(t.mem, c.head, n);
    heads.push(c.head);
  }
  return heads;
}

describe('DriverQueue.layout', () => {
  it('places the rings aligned, in order, without overlap', () => {
    for (const base of [0, 1, 15, 16, 0x1003, 0x7ffff]) {
      for (const size of [1, 2, 8, 256, 32768]) {
        const l = DriverQueue.layout(base, size);
        expect(l.descTable % 16).toBe(0);
        expect(l.descTable - base).toBeGreaterThanOrEqual(0);
        expect(l.descTable - base).toBeLessThan(16);
        expect(l.availRing % 2).toBe(0);
        expect(l.availRing).toBeGreaterThanOrEqual(l.descTable + 16 * size);
        expect(l.usedRing % 4).toBe(0);
        expect(l.usedRing).toBeGreaterThanOrEqual(l.availRing + 4 + 2 * size + 2); // flags, idx, ring, used_event
        expect(l.usedRing - (l.availRing + 6 + 2 * size)).toBeLessThan(4);
        expect(l.end).toBe(l.usedRing + 4 + 8 * size + 2); // flags, idx, ring, avail_event
        expect(l.bytes).toBe(l.end - base);
      }
    }
    // Size 1 needs padding before the used ring: 0x10 + 6 + 2 = 0x18 is 4-aligned, size 2: 0x20 + 10 = 0x2a is not.
    expect(DriverQueue.layout(0, 2)).toEqual({ descTable: 0, availRing: 0x20, usedRing: 0x2c, end: 0x2c + 22, bytes: 0x2c + 22 });
  });

  it('rejects a bad base or size', () => {
    for (const [base, size] of [
      [-16, 8],
      [1.5, 8],
      [Number.NaN, 8],
      [0, 0],
      [0, 3],
      [0, 65536],
    ] as const) {
      expectVnicError(() => DriverQueue.layout(base, size), 'invalid-argument', /base|size/);
    }
  });
});

describe('DriverQueue', () => {
  it('validates its configuration', () => {
    const ok = { size: 8, descTable: 0, availRing: 0x80, usedRing: 0x100, eventIdx: false };
    expect(() => new DriverQueue(ok)).not.toThrow();
    for (const bad of [
      { ...ok, size: 6 },
      { ...ok, size: 0 },
      { ...ok, descTable: 8 },
      { ...ok, availRing: 0x81 },
      { ...ok, usedRing: 0x102 },
      { ...ok, usedRing: -4 },
      { ...ok, start: 0x10000 },
      { ...ok, start: -1 },
    ]) {
      expectVnicError(() => new DriverQueue(bad), 'invalid-argument', /size|address|start/);
    }
  });

  it('init zeroes the rings and writes the start index', () => {
    const mem = new GuestMemory([{ guestPhysAddr: BASE, bytes: new Uint8Array(0x1000).fill(0xff) }]);
    const l = DriverQueue.layout(BASE, 4);
    const drv = new DriverQueue({ size: 4, descTable: l.descTable, availRing: l.availRing, usedRing: l.usedRing, eventIdx: true, start: 0xabcd });
    drv.init(mem);
    const bytes = mem.read(BASE, l.bytes)!;
    const expected = new Uint8Array(l.bytes);
    expected.set([0xcd, 0xab], l.availRing + 2 - BASE);
    expected.set([0xcd, 0xab], l.usedRing + 2 - BASE);
    expected.fill(0xff, l.availRing + 6 + 8 - BASE, l.usedRing - BASE); // alignment padding is not a ring
    expect(bytes).toEqual(expected);
    expect(mem.read(l.end, 1)).toEqual(Uint8Array.of(0xff));
    expect([drv.nextAvail, drv.lastUsed]).toEqual([0xabcd, 0xabcd]);
  });

  it('round trip: add -> device pop -> device addUsed -> popUsed', () => {
    const t = setup();
    const bufs: DriverBuffer[] = [
      { addr: DATA, len: 10, writable: false },
      { addr: DATA + 0x100, len: 4, writable: true },
      { addr: DATA + 0x200, len: 6, writable: true },
    ];
    t.mem.write(
      DATA,
      Uint8Array.from({ length: 10 }, (_, i) => i + 1),
    );
    const head = t.drv.add(t.mem, bufs)!;
    expect(t.drv.numFree).toBe(5);
    expect(t.dev.pop(t.mem)).toBeUndefined(); // not published yet
    t.drv.publish(t.mem);
    expect(rd16(t.mem, t.l.availRing + 2)).toBe(1);

    const c = t.dev.pop(t.mem)!;
    expect(c.head).toBe(head);
    expect(c.descriptors).toEqual(bufs);
    expect([...c.readAll(t.mem)]).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(c.writeFrom(t.mem, Uint8Array.of(9, 8, 7, 6, 5, 4, 3))).toBe(7);
    expect(t.drv.popUsed(t.mem)).toBeUndefined();
    t.dev.addUsed(t.mem, c.head, 7);
    expect(t.drv.usedPending(t.mem)).toBe(1);
    expect(t.drv.popUsed(t.mem)).toEqual({ id: head, len: 7 });
    expect(t.drv.popUsed(t.mem)).toBeUndefined();
    expect(t.drv.numFree).toBe(8);
    expect([...t.mem.read(DATA + 0x100, 4)!, ...t.mem.read(DATA + 0x200, 6)!]).toEqual([9, 8, 7, 6, 5, 4, 3, 0, 0, 0]);
  });

  it('builds an indirect table: one ring descriptor, the device sees the buffers', () => {
    const t = setup();
    const bufs: DriverBuffer[] = [
      { addr: DATA, len: 10, writable: false },
      { addr: 0x1_2345_6789, len: 0xffff_ffff, writable: true }, // encoded as given, checked by the device
    ];
    const head = t.drv.add(t.mem, bufs, { indirect: { tableAddr: TABLE } })!;
    expect(t.drv.numFree).toBe(7);
    // struct virtq_desc, little-endian: addr u64, len u32, flags u16, next u16.
    const le = (v: bigint, n: number): number[] => Array.from({ length: n }, (_, i) => Number((v >> BigInt(8 * i)) & 0xffn));
    const desc = (addr: number, len: number, flags: number, next: number): number[] => [
      ...le(BigInt(addr), 8),
      ...le(BigInt(len), 4),
      ...le(BigInt(flags), 2),
      ...le(BigInt(next), 2),
    ];
    expect([...t.mem.read(TABLE, 32)!]).toEqual([...desc(DATA, 10, VIRTQ_DESC_F_NEXT, 1), ...desc(0x1_2345_6789, 0xffff_ffff, VIRTQ_DESC_F_WRITE, 0)]);
    expect([...t.mem.read(t.l.descTable + 16 * head, 16)!]).toEqual(desc(TABLE, 32, VIRTQ_DESC_F_INDIRECT, 0));

    const ok = t.drv.add(
      t.mem,
      [
        { addr: DATA, len: 1, writable: false },
        { addr: DATA + 1, len: 2, writable: true },
      ],
      { indirect: { tableAddr: TABLE + 0x40 } },
    )!;
    t.drv.publish(t.mem);
    expect(t.dev.pop(t.mem)?.head).toBe(ok); // the first one has a buffer outside memory
    expect(t.dev.malformed).toBe(1);
    expect(t.drv.popUsed(t.mem)).toEqual({ id: head, len: 0 });
    expect(t.drv.numFree).toBe(7);
  });

  it('reuses freed descriptors and reports a full ring', () => {
    const t = setup({ size: 4 });
    const heads = [0, 1, 2, 3].map((i) => t.drv.add(t.mem, [{ addr: DATA + i, len: 1, writable: true }]));
    expect(new Set(heads).size).toBe(4);
    expect(heads.every((h) => h !== undefined && h >= 0 && h < 4)).toBe(true);
    expect(t.drv.numFree).toBe(0);
    const availBefore = t.drv.nextAvail;
    expect(t.drv.add(t.mem, [{ addr: DATA, len: 1, writable: true }])).toBeUndefined();
    expect(t.drv.add(t.mem, [{ addr: DATA, len: 1, writable: true }], { indirect: { tableAddr: TABLE } })).toBeUndefined();
    expect(t.drv.nextAvail).toBe(availBefore);
    t.drv.publish(t.mem);
    expect(deviceServe(t, 1)).toEqual(heads);

    expect(t.drv.popUsed(t.mem)?.id).toBe(heads[0]);
    expect(t.drv.popUsed(t.mem)?.id).toBe(heads[1]);
    expect(t.drv.numFree).toBe(2);
    // A three-descriptor chain does not fit in two free descriptors; a two-descriptor one reuses them.
    expect(
      t.drv.add(
        t.mem,
        [0, 1, 2].map((i) => ({ addr: DATA + i, len: 1, writable: false })),
      ),
    ).toBeUndefined();
    const two = t.drv.add(t.mem, [
      { addr: DATA + 0x10, len: 1, writable: false },
      { addr: DATA + 0x20, len: 1, writable: true },
    ]);
    expect([heads[0], heads[1]]).toContain(two);
    expect(t.drv.numFree).toBe(0);
    t.drv.publish(t.mem);
    const c = t.dev.pop(t.mem)!;
    expect(c.descriptors.map((d) => d.addr)).toEqual([DATA + 0x10, DATA + 0x20]);

    // Thousands of rounds through a 4-entry queue: nothing leaks.
    t.dev.addUsed(t.mem, c.head, 0);
    while (t.drv.popUsed(t.mem) !== undefined);
    for (let round = 0; round < 3000; round++) {
      expect(t.drv.add(t.mem, [{ addr: DATA + (round % 64), len: 1, writable: true }])).toBeDefined();
      if (round % 3 === 2) {
        t.drv.publish(t.mem);
        deviceServe(t, round & 0xff);
        while (t.drv.popUsed(t.mem) !== undefined);
      }
    }
    t.drv.publish(t.mem);
    deviceServe(t, 0);
    while (t.drv.popUsed(t.mem) !== undefined);
    expect(t.drv.numFree).toBe(4);
    expect(t.dev.getState()).toEqual({ nextAvail: 4 + 1 + 3000, nextUsed: 4 + 1 + 3000 });
  });

  it('rejects chains it cannot encode', () => {
    const t = setup({ size: 4 });
    const b = { addr: DATA, len: 1, writable: false };
    expectVnicError(() => t.drv.add(t.mem, []), 'invalid-argument', /at least one/);
    expectVnicError(() => t.drv.add(t.mem, [b, b, b, b, b]), 'invalid-argument', /does not fit/);
    expectVnicError(() => t.drv.add(t.mem, [{ ...b, addr: -1 }]), 'invalid-argument', /address/);
    expectVnicError(() => t.drv.add(t.mem, [{ ...b, addr: 2 ** 53 }]), 'invalid-argument', /address/);
    expectVnicError(() => t.drv.add(t.mem, [{ ...b, len: 2 ** 32 }]), 'invalid-argument', /length/);
    expectVnicError(() => t.drv.add(t.mem, [b], { indirect: { tableAddr: 0x20_0000 } }), 'invalid-argument', /outside guest memory/);
    expect(t.drv.numFree).toBe(4);
    // An indirect table may be longer than the queue (the device decides whether to accept it).
    expect(t.drv.add(t.mem, [b, b, b, b, b], { indirect: { tableAddr: TABLE } })).toBeDefined();
  });

  it('popUsed throws on an id that is not in flight, and on a used idx too far ahead', () => {
    const t = setup();
    const head = t.drv.add(t.mem, [{ addr: DATA, len: 1, writable: true }])!;
    t.drv.publish(t.mem);
    t.dev.pop(t.mem);
    t.dev.addUsed(t.mem, head, 1);
    t.dev.addUsed(t.mem, head, 1); // twice
    t.dev.addUsed(t.mem, 100, 1); // never a head
    expect(t.drv.popUsed(t.mem)).toEqual({ id: head, len: 1 });
    expectVnicError(() => t.drv.popUsed(t.mem), 'invalid-state', /not in flight/);
    expectVnicError(() => t.drv.popUsed(t.mem), 'invalid-state', /not in flight/);
    expect(t.drv.popUsed(t.mem)).toBeUndefined();
    const s = t.mem.slice(t.l.usedRing + 2, 2)!;
    s.set([9 + 3, 0]); // 9 entries published at once in a queue of 8
    expectVnicError(() => t.drv.popUsed(t.mem), 'invalid-state', /ahead/);
  });

  it('kickNeeded without EVENT_IDX follows VIRTQ_USED_F_NO_NOTIFY, only after a publish', () => {
    const t = setup();
    const one = (): void => void t.drv.add(t.mem, [{ addr: DATA, len: 1, writable: true }]);
    expect(t.drv.kickNeeded(t.mem)).toBe(false); // nothing published yet
    one();
    expect(t.drv.kickNeeded(t.mem)).toBe(false); // added, not published
    t.drv.publish(t.mem);
    expect(t.drv.kickNeeded(t.mem)).toBe(true);
    expect(t.drv.kickNeeded(t.mem)).toBe(false);
    t.dev.disableNotification(t.mem);
    one();
    t.drv.publish(t.mem);
    expect(t.drv.kickNeeded(t.mem)).toBe(false);
    t.dev.enableNotification(t.mem);
    one();
    t.drv.publish(t.mem);
    expect(t.drv.kickNeeded(t.mem)).toBe(true);
  });

  it('kickNeeded with EVENT_IDX kicks exactly when avail idx moves past avail_event, with wrap-around', () => {
    for (const start of [0, 0xfffd]) {
      const t = setup({ eventIdx: true, start });
      const publish = (n: number): void => {
        for (let i = 0; i < n; i++) t.drv.add(t.mem, [{ addr: DATA, len: 1, writable: true }]);
        t.drv.publish(t.mem);
      };
      t.dev.enableNotification(t.mem); // avail_event = start
      publish(1);
      expect(t.drv.kickNeeded(t.mem)).toBe(true);
      publish(2); // start+1 -> start+3, avail_event still start: the device is awake, no kick
      expect(t.drv.kickNeeded(t.mem)).toBe(false);
      deviceServe(t, 0);
      while (t.drv.popUsed(t.mem) !== undefined);
      expect(t.dev.enableNotification(t.mem)).toBe(false); // avail_event = start+3
      publish(2);
      expect(t.drv.kickNeeded(t.mem)).toBe(true);
      // VIRTQ_USED_F_NO_NOTIFY is ignored with EVENT_IDX: only avail_event counts.
      t.mem.slice(t.l.usedRing, 2)!.set([1, 0]);
      expect(t.dev.enableNotification(t.mem)).toBe(true); // avail_event = start+3 again, 2 pending
      publish(1);
      expect(t.drv.kickNeeded(t.mem)).toBe(false);
      deviceServe(t, 0);
      expect(t.dev.enableNotification(t.mem)).toBe(false); // avail_event = start+6
      publish(1);
      expect(t.drv.kickNeeded(t.mem)).toBe(true);
    }
  });

  it('disableInterrupts/enableInterrupts without EVENT_IDX toggle VIRTQ_AVAIL_F_NO_INTERRUPT', () => {
    const t = setup();
    t.mem.slice(t.l.availRing, 2)!.set([0, 0x80]);
    t.drv.disableInterrupts(t.mem);
    expect(rd16(t.mem, t.l.availRing)).toBe(0x8000 | VIRTQ_AVAIL_F_NO_INTERRUPT);
    t.drv.add(t.mem, [{ addr: DATA, len: 1, writable: true }]);
    t.drv.publish(t.mem);
    deviceServe(t, 0);
    expect(t.dev.needsNotification(t.mem)).toBe(false);
    expect(t.drv.enableInterrupts(t.mem)).toBe(true); // a used buffer is waiting
    expect(rd16(t.mem, t.l.availRing)).toBe(0x8000);
    t.drv.popUsed(t.mem);
    expect(t.drv.enableInterrupts(t.mem)).toBe(false);
  });

  it('disableInterrupts/enableInterrupts with EVENT_IDX move used_event', () => {
    for (const start of [0, 0xfffa]) {
      const t = setup({ eventIdx: true, start });
      const usedEvent = t.l.availRing + 4 + 2 * 8;
      t.drv.disableInterrupts(t.mem);
      expect(rd16(t.mem, t.l.availRing)).toBe(0); // flags untouched
      // A whole ring of used buffers, in several batches: no interrupt.
      for (let batch = 0; batch < 4; batch++) {
        for (let i = 0; i < 2; i++) t.drv.add(t.mem, [{ addr: DATA, len: 1, writable: true }]);
        t.drv.publish(t.mem);
        deviceServe(t, 0);
        expect(t.dev.needsNotification(t.mem)).toBe(false);
      }
      expect(t.drv.enableInterrupts(t.mem)).toBe(true);
      expect(rd16(t.mem, usedEvent)).toBe(start);
      while (t.drv.popUsed(t.mem) !== undefined);
      expect(t.drv.enableInterrupts(t.mem)).toBe(false);
      expect(rd16(t.mem, usedEvent)).toBe((start + 8) & 0xffff);
      t.drv.add(t.mem, [{ addr: DATA, len: 1, writable: true }]);
      t.drv.publish(t.mem);
      deviceServe(t, 0);
      expect(t.dev.needsNotification(t.mem)).toBe(true);
    }
  });

  it('writeDescriptor writes raw fields and takes the slot off the free list', () => {
    const t = setup({ size: 4 });
    t.drv.writeDescriptor(t.mem, 2, { addr: 0xfedc_ba98_7654_3210n, len: 0xffff_ffff, flags: 0xffff, next: 0xabcd });
    expect([...t.mem.read(t.l.descTable + 32, 16)!]).toEqual([0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xcd, 0xab]);
    t.drv.writeDescriptor(t.mem, 2, { addr: 2 ** 53 - 1, len: 0, flags: 0, next: 0 });
    expect([...t.mem.read(t.l.descTable + 32, 8)!]).toEqual([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f, 0]);
    expect(t.drv.numFree).toBe(3);
    const heads = [0, 1, 2].map(() => t.drv.add(t.mem, [{ addr: DATA, len: 1, writable: false }]));
    expect(heads.sort()).toEqual([0, 1, 3]);
    expect(t.drv.add(t.mem, [{ addr: DATA, len: 1, writable: false }])).toBeUndefined();
    expectVnicError(() => t.drv.writeDescriptor(t.mem, 4, { addr: 0, len: 0, flags: 0, next: 0 }), 'invalid-argument', /index/);
    expectVnicError(() => t.drv.writeDescriptor(t.mem, 0, { addr: 1n << 64n, len: 0, flags: 0, next: 0 }), 'invalid-argument', /u64/);
    expectVnicError(() => t.drv.writeDescriptor(t.mem, 0, { addr: 0, len: 0, flags: 0x10000, next: 0 }), 'invalid-argument', /flags/);
    expectVnicError(() => DriverQueue.writeDescriptorAt(t.mem, 0x20_0000, { addr: 0, len: 0, flags: 0, next: 0 }), 'invalid-argument', /outside/);
  });

  it('pushAvailRaw and setAvailIdxRaw write the avail ring verbatim', () => {
    const t = setup({ size: 4, start: 0xffff });
    t.drv.pushAvailRaw(t.mem, 0xbeef);
    t.drv.pushAvailRaw(t.mem, 2);
    expect(rd16(t.mem, t.l.availRing + 4 + 2 * 3)).toBe(0xbeef);
    expect(rd16(t.mem, t.l.availRing + 4)).toBe(2);
    expect(t.drv.nextAvail).toBe(1);
    expect(rd16(t.mem, t.l.availRing + 2)).toBe(0xffff);
    t.drv.setAvailIdxRaw(t.mem, 0x1_2345);
    expect(rd16(t.mem, t.l.availRing + 2)).toBe(0x2345);
    expect(t.drv.nextAvail).toBe(1);
    t.drv.publish(t.mem);
    expect(rd16(t.mem, t.l.availRing + 2)).toBe(1);
    // A raw head can come back once through popUsed.
    t.dev.setState({ nextAvail: 0, nextUsed: 0xffff });
    t.dev.addUsed(t.mem, 2, 5);
    t.dev.addUsed(t.mem, 2, 5);
    expect(t.drv.popUsed(t.mem)).toEqual({ id: 2, len: 5 });
    expectVnicError(() => t.drv.popUsed(t.mem), 'invalid-state', /not in flight/);
    expectVnicError(() => t.drv.pushAvailRaw(t.mem, 0x10000), 'invalid-argument', /avail ring entry/);
  });

  it('works on a region with an odd byte offset (no Atomics view)', () => {
    const mem = new GuestMemory([{ guestPhysAddr: BASE, bytes: new Uint8Array(new ArrayBuffer(0x10001), 1) }]);
    expect(mem.regions[0]!.windows[0]!.u16).toBeUndefined();
    const l = DriverQueue.layout(BASE, 4);
    const ring = { size: 4, descTable: l.descTable, availRing: l.availRing, usedRing: l.usedRing, eventIdx: true };
    const drv = new DriverQueue(ring);
    const dev = new SplitQueue({ ...ring, indirectDesc: false });
    drv.init(mem);
    const t: Setup = { mem, drv, dev, l };
    for (let round = 0; round < 10; round++) {
      const head = drv.add(mem, [{ addr: DATA, len: 4, writable: true }])!;
      drv.publish(mem);
      expect(deviceServe(t, round)).toEqual([head]);
      expect(drv.popUsed(mem)).toEqual({ id: head, len: 4 });
      expect(mem.read(DATA, 4)).toEqual(new Uint8Array(4).fill(round));
    }
    expect(rd16(mem, l.availRing + 2)).toBe(10);
    expect(rd16(mem, l.usedRing + 2)).toBe(10);
  });
});
