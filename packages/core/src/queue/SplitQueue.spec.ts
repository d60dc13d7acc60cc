import { describe, expect, it } from 'vitest';
import { VIRTQ_AVAIL_F_NO_INTERRUPT, VIRTQ_DESC_F_INDIRECT, VIRTQ_DESC_F_NEXT, VIRTQ_DESC_F_WRITE, VIRTQ_USED_F_NO_NOTIFY } from '../defs/virtio.ts';
import { GuestMemory } from '../memory/GuestMemory.ts';
import { ChainError, type ChainErrorMessage } from './ChainError.ts';
import type { Descriptor } from './Descriptor.ts';
import { DriverQueue, type DriverBuffer, type DriverQueueLayout } from './DriverQueue.ts';
import { SplitQueue } from './SplitQueue.ts';

// Memory map: region A [0x10000, 0x20000), a hole, region B [0x30000, 0x31000).
const A = 0x10000;
const A_SIZE = 0x10000;
const A_END = A + A_SIZE;
const HOLE = 0x20000;
const B = 0x30000;
const B_SIZE = 0x1000;
const B_END = B + B_SIZE;
const DATA = 0x14000;
const TABLE = 0x18000;

const { NEXT, WRITE, INDIRECT } = { NEXT: VIRTQ_DESC_F_NEXT, WRITE: VIRTQ_DESC_F_WRITE, INDIRECT: VIRTQ_DESC_F_INDIRECT };

interface Setup {
  readonly mem: GuestMemory;
  readonly drv: DriverQueue;
  readonly dev: SplitQueue;
  readonly l: DriverQueueLayout;
  readonly size: number;
}

function setup(opts: { size?: number; eventIdx?: boolean; indirectDesc?: boolean; start?: number } = {}): Setup {
  const mem = new GuestMemory([
    { guestPhysAddr: A, bytes: new Uint8Array(A_SIZE) },
    { guestPhysAddr: B, bytes: new Uint8Array(B_SIZE) },
  ]);
  const size = opts.size ?? 16;
  const start = opts.start ?? 0;
  const l = DriverQueue.layout(A, size);
  const ring = { size, descTable: l.descTable, availRing: l.availRing, usedRing: l.usedRing, eventIdx: opts.eventIdx ?? false };
  const drv = new DriverQueue({ ...ring, start });
  drv.init(mem);
  const dev = new SplitQueue({ ...ring, indirectDesc: opts.indirectDesc ?? true });
  dev.setState({ nextAvail: start, nextUsed: start });
  expect(dev.validate(mem)).toBeUndefined();
  return { mem, drv, dev, l, size };
}

/** Little-endian reads assembled byte by byte (independent of the DataView/Atomics code under test). */
function rd16(mem: GuestMemory, gpa: number): number {
  const s = mem.slice(gpa, 2)!;
  return s[0]! | (s[1]! << 8);
}
function rd32(mem: GuestMemory, gpa: number): number {
  const s = mem.slice(gpa, 4)!;
  return (s[0]! | (s[1]! << 8) | (s[2]! << 16) | (s[3]! << 24)) >>> 0;
}
function wr16(mem: GuestMemory, gpa: number, v: number): void {
  mem.slice(gpa, 2)!.set([v & 0xff, (v >>> 8) & 0xff]);
}
function usedIdx(t: Setup): number {
  return rd16(t.mem, t.l.usedRing + 2);
}
function usedElem(t: Setup, slot: number): { id: number; len: number } {
  const gpa = t.l.usedRing + 4 + 8 * slot;
  return { id: rd32(t.mem, gpa), len: rd32(t.mem, gpa + 4) };
}

const GOOD: readonly DriverBuffer[] = [
  { addr: DATA, len: 32, writable: false },
  { addr: DATA + 0x100, len: 64, writable: true },
];

function asDescriptors(buffers: readonly DriverBuffer[]): Descriptor[] {
  return buffers.map((b) => ({ addr: b.addr, len: b.len, writable: b.writable }));
}

/**
 * Makes each raw head available in turn and checks that it goes back to the used ring with len 0,
 * counted under `rule`; then checks that a good chain posted after them is still popped.
 */
function expectRejected(t: Setup, badHeads: readonly number[], rule: ChainErrorMessage, good: readonly DriverBuffer[] = GOOD): void {
  const { mem, drv, dev } = t;
  badHeads.forEach((h, i) => {
    drv.pushAvailRaw(mem, h);
    drv.publish(mem);
    expect(dev.pop(mem), `bad head ${h}`).toBeUndefined();
    expect(dev.lastError, `bad head ${h}`).toBe(rule);
    expect(dev.malformed).toBe(i + 1);
    expect(dev.needsReset).toBe(false);
    expect(usedIdx(t)).toBe(i + 1);
    expect(usedElem(t, i)).toEqual({ id: h, len: 0 });
  });
  const goodHead = drv.add(mem, good);
  expect(goodHead).toBeDefined();
  drv.publish(mem);
  const chain = dev.pop(mem);
  expect(chain?.head).toBe(goodHead);
  expect(chain?.descriptors).toEqual(asDescriptors(good));
  expect(dev.malformed).toBe(badHeads.length);
  expect(dev.pop(mem)).toBeUndefined();
  // The driver gets the bad chains back and can reuse the queue.
  for (const h of badHeads) expect(drv.popUsed(mem)).toEqual({ id: h, len: 0 });
  dev.addUsed(mem, chain!.head, 7);
  expect(drv.popUsed(mem)).toEqual({ id: goodHead, len: 7 });
}

describe('SplitQueue chain validation: a malformed chain is returned with len 0, counted, and processing goes on', () => {
  it('rejects a loop (next points back)', () => {
    const t = setup();
    t.drv.writeDescriptor(t.mem, 10, { addr: DATA, len: 16, flags: NEXT, next: 11 });
    t.drv.writeDescriptor(t.mem, 11, { addr: DATA, len: 16, flags: NEXT, next: 10 });
    t.drv.writeDescriptor(t.mem, 12, { addr: DATA, len: 16, flags: NEXT, next: 12 });
    expectRejected(t, [10, 12], ChainError.LOOP);
  });

  it('accepts a chain exactly as long as the queue but not one descriptor more', () => {
    const t = setup({ size: 4 });
    const four = [0, 1, 2, 3].map((i) => ({ addr: DATA + 16 * i, len: 16, writable: false }));
    const head = t.drv.add(t.mem, four)!;
    t.drv.publish(t.mem);
    expect(t.dev.pop(t.mem)?.descriptors).toHaveLength(4);
    t.dev.addUsed(t.mem, head, 0);
    t.drv.popUsed(t.mem);
    // Same four slots, but the last one links back to the first: a fifth descriptor is a loop.
    for (let i = 0; i < 4; i++) t.drv.writeDescriptor(t.mem, i, { addr: DATA, len: 16, flags: NEXT, next: (i + 1) % 4 });
    t.drv.pushAvailRaw(t.mem, 0);
    t.drv.publish(t.mem);
    expect(t.dev.pop(t.mem)).toBeUndefined();
    expect(t.dev.lastError).toBe(ChainError.LOOP);
    expect(t.dev.malformed).toBe(1);
  });

  it('rejects a next index out of range (descriptor table and indirect table)', () => {
    const t = setup();
    t.drv.writeDescriptor(t.mem, 10, { addr: DATA, len: 16, flags: NEXT, next: 16 });
    t.drv.writeDescriptor(t.mem, 11, { addr: DATA, len: 16, flags: NEXT, next: 0xffff });
    DriverQueue.writeDescriptorAt(t.mem, TABLE, { addr: DATA, len: 16, flags: NEXT, next: 2 });
    DriverQueue.writeDescriptorAt(t.mem, TABLE + 16, { addr: DATA, len: 16, flags: 0, next: 0 });
    t.drv.writeDescriptor(t.mem, 12, { addr: TABLE, len: 32, flags: INDIRECT, next: 0 });
    expectRejected(t, [10, 11, 12], ChainError.NEXT_OUT_OF_RANGE);
  });

  it('rejects an address past the end of memory', () => {
    const t = setup();
    t.drv.writeDescriptor(t.mem, 10, { addr: B_END - 8, len: 16, flags: 0, next: 0 }); // straddles the end
    t.drv.writeDescriptor(t.mem, 11, { addr: B_END, len: 1, flags: 0, next: 0 }); // first byte past the end
    t.drv.writeDescriptor(t.mem, 12, { addr: B_END + 0x1000, len: 0, flags: 0, next: 0 });
    // A second descriptor of a chain is checked too.
    t.drv.writeDescriptor(t.mem, 13, { addr: DATA, len: 16, flags: NEXT, next: 14 });
    t.drv.writeDescriptor(t.mem, 14, { addr: B_END - 1, len: 2, flags: WRITE, next: 0 });
    // The last bytes of memory are fine.
    expectRejected(t, [10, 11, 12, 13], ChainError.ADDRESS_OUT_OF_MEMORY, [
      { addr: B_END - 16, len: 16, writable: false },
      { addr: B_END - 1, len: 1, writable: true },
    ]);
  });

  it('rejects an address in the hole between regions', () => {
    const t = setup();
    t.drv.writeDescriptor(t.mem, 10, { addr: HOLE + 0x100, len: 16, flags: 0, next: 0 });
    t.drv.writeDescriptor(t.mem, 11, { addr: A_END - 8, len: 16, flags: 0, next: 0 }); // runs from A into the hole
    t.drv.writeDescriptor(t.mem, 12, { addr: B - 8, len: 16, flags: WRITE, next: 0 }); // runs from the hole into B
    t.drv.writeDescriptor(t.mem, 13, { addr: A_END - 8, len: B_END - A_END + 8, flags: 0, next: 0 }); // spans the hole
    expectRejected(t, [10, 11, 12, 13], ChainError.ADDRESS_OUT_OF_MEMORY, [
      { addr: A_END - 16, len: 16, writable: false },
      { addr: B, len: 16, writable: true },
    ]);
  });

  it('rejects a u64 address that does not fit below 2^53 (high bits set, u64 wrap-around)', () => {
    const t = setup();
    // In u64 arithmetic 0xffff_ffff_ffff_f000 + 0x11000 wraps to 0x10000 = A: must not be accepted.
    t.drv.writeDescriptor(t.mem, 10, { addr: 0xffff_ffff_ffff_f000n, len: 0x11000, flags: 0, next: 0 });
    t.drv.writeDescriptor(t.mem, 11, { addr: 1n << 53n, len: 16, flags: 0, next: 0 });
    t.drv.writeDescriptor(t.mem, 12, { addr: (1n << 63n) | BigInt(DATA), len: 16, flags: 0, next: 0 });
    t.drv.writeDescriptor(t.mem, 13, { addr: (0xffff_ffffn << 32n) | BigInt(DATA), len: 16, flags: 0, next: 0 });
    expectRejected(t, [10, 11, 12, 13], ChainError.ADDRESS_OVERFLOW);
  });

  it('rejects len 0xffffffff near the end of a region', () => {
    const t = setup();
    t.drv.writeDescriptor(t.mem, 10, { addr: B_END - 16, len: 0xffff_ffff, flags: 0, next: 0 });
    t.drv.writeDescriptor(t.mem, 11, { addr: A, len: 0xffff_ffff, flags: WRITE, next: 0 });
    t.drv.writeDescriptor(t.mem, 12, { addr: (1n << 53n) - 1n, len: 0xffff_ffff, flags: 0, next: 0 });
    expectRejected(t, [10, 11, 12], ChainError.ADDRESS_OUT_OF_MEMORY);
  });

  it('rejects address + len past a region placed just below 2^53 (no float rounding)', () => {
    const top = Number.MAX_SAFE_INTEGER + 1 - 0x2000; // region [2^53 - 0x2000, 2^53 - 0x1000)
    const mem = new GuestMemory([
      { guestPhysAddr: A, bytes: new Uint8Array(A_SIZE) },
      { guestPhysAddr: top, bytes: new Uint8Array(0x1000) },
    ]);
    const l = DriverQueue.layout(A, 8);
    const ring = { size: 8, descTable: l.descTable, availRing: l.availRing, usedRing: l.usedRing, eventIdx: false };
    const drv = new DriverQueue(ring);
    const dev = new SplitQueue({ ...ring, indirectDesc: false });
    expect(dev.validate(mem)).toBeUndefined();
    drv.writeDescriptor(mem, 5, { addr: top + 0x800, len: 0xffff_ffff, flags: 0, next: 0 });
    drv.writeDescriptor(mem, 6, { addr: top + 0xfff, len: 2, flags: 0, next: 0 });
    drv.pushAvailRaw(mem, 5);
    drv.pushAvailRaw(mem, 6);
    const good = drv.add(mem, [{ addr: top + 0xff0, len: 16, writable: true }]);
    drv.publish(mem);
    const chain = dev.pop(mem);
    expect(chain?.head).toBe(good);
    expect(chain?.descriptors).toEqual([{ addr: top + 0xff0, len: 16, writable: true }]);
    expect(dev.malformed).toBe(2);
    expect(dev.lastError).toBe(ChainError.ADDRESS_OUT_OF_MEMORY);
    expect(chain!.writeFrom(mem, new Uint8Array(16).fill(9))).toBe(16);
    expect(mem.read(top + 0xff0, 16)).toEqual(new Uint8Array(16).fill(9));
  });

  it('rejects an indirect table length that is not a multiple of 16', () => {
    const t = setup();
    t.drv.writeDescriptor(t.mem, 10, { addr: TABLE, len: 24, flags: INDIRECT, next: 0 });
    t.drv.writeDescriptor(t.mem, 11, { addr: TABLE, len: 15, flags: INDIRECT, next: 0 });
    expectRejected(t, [10, 11], ChainError.INDIRECT_LEN);
  });

  it('rejects an indirect table of length 0', () => {
    const t = setup();
    t.drv.writeDescriptor(t.mem, 10, { addr: TABLE, len: 0, flags: INDIRECT, next: 0 });
    expectRejected(t, [10], ChainError.INDIRECT_LEN);
  });

  it('rejects an indirect table with more descriptors than the queue size', () => {
    const t = setup();
    for (let i = 0; i < 17; i++) DriverQueue.writeDescriptorAt(t.mem, TABLE + 16 * i, { addr: DATA, len: 1, flags: i < 16 ? NEXT : 0, next: i + 1 });
    t.drv.writeDescriptor(t.mem, 10, { addr: TABLE, len: 16 * 17, flags: INDIRECT, next: 0 });
    expectRejected(t, [10], ChainError.INDIRECT_TOO_LONG);
  });

  it('rejects a nested indirect descriptor', () => {
    const t = setup();
    DriverQueue.writeDescriptorAt(t.mem, TABLE, { addr: DATA, len: 16, flags: NEXT, next: 1 });
    DriverQueue.writeDescriptorAt(t.mem, TABLE + 16, { addr: TABLE + 0x100, len: 16, flags: INDIRECT, next: 0 });
    DriverQueue.writeDescriptorAt(t.mem, TABLE + 0x100, { addr: DATA, len: 16, flags: 0, next: 0 });
    t.drv.writeDescriptor(t.mem, 10, { addr: TABLE, len: 32, flags: INDIRECT, next: 0 });
    expectRejected(t, [10], ChainError.INDIRECT_NESTED);
  });

  it('rejects INDIRECT | NEXT', () => {
    const t = setup();
    DriverQueue.writeDescriptorAt(t.mem, TABLE, { addr: DATA, len: 16, flags: 0, next: 0 });
    t.drv.writeDescriptor(t.mem, 10, { addr: TABLE, len: 16, flags: INDIRECT | NEXT, next: 11 });
    t.drv.writeDescriptor(t.mem, 11, { addr: DATA, len: 16, flags: 0, next: 0 });
    expectRejected(t, [10], ChainError.INDIRECT_NEXT);
  });

  it('rejects an indirect descriptor when VIRTIO_F_INDIRECT_DESC was not negotiated', () => {
    const t = setup({ indirectDesc: false });
    DriverQueue.writeDescriptorAt(t.mem, TABLE, { addr: DATA, len: 16, flags: 0, next: 0 });
    t.drv.writeDescriptor(t.mem, 10, { addr: TABLE, len: 16, flags: INDIRECT, next: 0 });
    expectRejected(t, [10], ChainError.INDIRECT_NOT_NEGOTIATED);
  });

  it('rejects an indirect table outside memory', () => {
    const t = setup();
    t.drv.writeDescriptor(t.mem, 10, { addr: HOLE, len: 16, flags: INDIRECT, next: 0 });
    // Only the second entry is in the hole, and the chain would end at the first: still rejected.
    DriverQueue.writeDescriptorAt(t.mem, A_END - 16, { addr: DATA, len: 16, flags: 0, next: 0 });
    t.drv.writeDescriptor(t.mem, 11, { addr: A_END - 16, len: 32, flags: INDIRECT, next: 0 });
    t.drv.writeDescriptor(t.mem, 12, { addr: B_END, len: 16, flags: INDIRECT, next: 0 });
    expectRejected(t, [10, 11, 12], ChainError.INDIRECT_OUT_OF_MEMORY);
  });

  it('rejects a buffer outside memory inside an indirect table', () => {
    const t = setup();
    DriverQueue.writeDescriptorAt(t.mem, TABLE, { addr: DATA, len: 16, flags: NEXT, next: 1 });
    DriverQueue.writeDescriptorAt(t.mem, TABLE + 16, { addr: HOLE, len: 16, flags: WRITE, next: 0 });
    t.drv.writeDescriptor(t.mem, 10, { addr: TABLE, len: 32, flags: INDIRECT, next: 0 });
    expectRejected(t, [10], ChainError.ADDRESS_OUT_OF_MEMORY);
  });

  it('rejects a readable descriptor after a writable one (direct, indirect, and across the two)', () => {
    const t = setup();
    t.drv.writeDescriptor(t.mem, 10, { addr: DATA, len: 16, flags: WRITE | NEXT, next: 11 });
    t.drv.writeDescriptor(t.mem, 11, { addr: DATA + 16, len: 16, flags: 0, next: 0 });
    DriverQueue.writeDescriptorAt(t.mem, TABLE, { addr: DATA, len: 16, flags: WRITE | NEXT, next: 1 });
    DriverQueue.writeDescriptorAt(t.mem, TABLE + 16, { addr: DATA, len: 16, flags: 0, next: 0 });
    t.drv.writeDescriptor(t.mem, 12, { addr: TABLE, len: 32, flags: INDIRECT, next: 0 });
    DriverQueue.writeDescriptorAt(t.mem, TABLE + 0x100, { addr: DATA, len: 16, flags: 0, next: 0 });
    t.drv.writeDescriptor(t.mem, 13, { addr: DATA, len: 16, flags: WRITE | NEXT, next: 14 });
    t.drv.writeDescriptor(t.mem, 14, { addr: TABLE + 0x100, len: 16, flags: INDIRECT, next: 0 });
    expectRejected(t, [10, 12, 13], ChainError.READABLE_AFTER_WRITABLE);
  });
});

describe('SplitQueue ring-level corruption: NEEDS_RESET and the queue stops', () => {
  it('stops when avail idx jumps more than the queue size ahead', () => {
    const t = setup();
    t.drv.add(t.mem, GOOD);
    t.drv.publish(t.mem);
    t.drv.setAvailIdxRaw(t.mem, t.size + 1);
    expect(t.dev.pop(t.mem)).toBeUndefined();
    expect(t.dev.needsReset).toBe(true);
    expect(t.dev.brokenReason).toBe(ChainError.INVALID_AVAIL_IDX);
    expect(t.dev.nextAvail).toBe(0);
    // Even once the index looks sane again, the queue stays stopped and writes nothing.
    t.drv.publish(t.mem);
    expect(t.dev.pop(t.mem)).toBeUndefined();
    t.dev.addUsed(t.mem, 0, 1);
    expect(usedIdx(t)).toBe(0);
    expect(t.dev.needsNotification(t.mem)).toBe(false);
    expect(t.dev.validate(t.mem)).toBe(ChainError.INVALID_AVAIL_IDX);
  });

  it('accepts exactly queue-size chains pending, across the u16 wrap', () => {
    const t = setup({ size: 8, start: 0xfffc });
    const heads: number[] = [];
    for (let i = 0; i < 8; i++) heads.push(t.drv.add(t.mem, [{ addr: DATA + 16 * i, len: 16, writable: true }])!);
    t.drv.publish(t.mem);
    expect(rd16(t.mem, t.l.availRing + 2)).toBe(4);
    const popped: number[] = [];
    for (let c = t.dev.pop(t.mem); c !== undefined; c = t.dev.pop(t.mem)) popped.push(c.head);
    expect(popped).toEqual(heads);
    expect(t.dev.needsReset).toBe(false);
  });

  it('stops on a head index >= queue size', () => {
    for (const bad of [16, 0xffff]) {
      const t = setup();
      t.drv.pushAvailRaw(t.mem, bad);
      t.drv.add(t.mem, GOOD);
      t.drv.publish(t.mem);
      expect(t.dev.pop(t.mem)).toBeUndefined();
      expect(t.dev.needsReset).toBe(true);
      expect(t.dev.brokenReason).toBe(ChainError.INVALID_HEAD);
      expect(t.dev.pop(t.mem)).toBeUndefined();
      expect(usedIdx(t)).toBe(0);
    }
  });

  it('validate() reports rings outside memory', () => {
    const mem = new GuestMemory([
      { guestPhysAddr: A, bytes: new Uint8Array(A_SIZE) },
      { guestPhysAddr: B, bytes: new Uint8Array(B_SIZE) },
    ]);
    const good = DriverQueue.layout(A, 16);
    const base = { size: 16, eventIdx: false, indirectDesc: false, descTable: good.descTable, availRing: good.availRing, usedRing: good.usedRing };
    expect(new SplitQueue(base).validate(mem)).toBeUndefined();
    const bad = [
      { ...base, descTable: HOLE },
      { ...base, descTable: A_END - 16 * 8 }, // half the table past the end of A
      { ...base, availRing: HOLE },
      { ...base, availRing: B_END - 36 }, // used_event (2 bytes at +36) past the end
      { ...base, usedRing: B_END - 132 }, // avail_event (2 bytes at +132) past the end
      { ...base, usedRing: 0 },
    ];
    for (const cfg of bad) {
      const q = new SplitQueue(cfg);
      expect(q.validate(mem)).toBe(ChainError.RING_OUT_OF_MEMORY);
      expect(q.needsReset).toBe(true);
      expect(q.pop(mem)).toBeUndefined();
    }
    // Placed right at the end of memory, the rings are fine.
    const tight = { ...base, descTable: B, availRing: B_END - 38, usedRing: B_END - 176 };
    expect(new SplitQueue(tight).validate(mem)).toBeUndefined();
  });

  it('validate() reports misaligned rings', () => {
    const mem = new GuestMemory([{ guestPhysAddr: A, bytes: new Uint8Array(A_SIZE) }]);
    const good = DriverQueue.layout(A, 16);
    const base = { size: 16, eventIdx: false, indirectDesc: false, descTable: good.descTable, availRing: good.availRing, usedRing: good.usedRing };
    for (const cfg of [
      { ...base, descTable: good.descTable + 8 },
      { ...base, availRing: good.availRing + 1 },
      { ...base, usedRing: good.usedRing + 2 },
    ]) {
      const q = new SplitQueue(cfg);
      expect(q.validate(mem)).toBe(ChainError.RING_MISALIGNED);
      expect(q.pop(mem)).toBeUndefined();
    }
  });

  it('pop() without validate() stops on an available ring outside memory', () => {
    const mem = new GuestMemory([{ guestPhysAddr: A, bytes: new Uint8Array(A_SIZE) }]);
    const q = new SplitQueue({ size: 16, eventIdx: false, indirectDesc: false, descTable: A, availRing: HOLE, usedRing: A + 0x1000 });
    expect(q.pop(mem)).toBeUndefined();
    expect(q.brokenReason).toBe(ChainError.RING_OUT_OF_MEMORY);
  });

  it('reports an invalid queue size', () => {
    const mem = new GuestMemory([{ guestPhysAddr: 0, bytes: new Uint8Array(0x100000) }]);
    const cfg = { eventIdx: false, indirectDesc: false, descTable: 0, availRing: 0x80000, usedRing: 0xa0000 };
    for (const size of [0, 3, 12, -4, 1.5, Number.NaN, 65536, 32768 * 4]) {
      const q = new SplitQueue({ ...cfg, size });
      expect(q.validate(mem)).toBe(ChainError.INVALID_SIZE);
      expect(q.pop(mem)).toBeUndefined();
    }
    for (const size of [1, 2, 256, 32768]) expect(new SplitQueue({ ...cfg, size }).validate(mem)).toBeUndefined();
  });
});

describe('SplitQueue chains', () => {
  it('flattens indirect tables and ignores WRITE on the descriptor that refers to a table', () => {
    const t = setup();
    const bufs: DriverBuffer[] = [
      { addr: DATA, len: 10, writable: false },
      { addr: B, len: 20, writable: false },
      { addr: DATA + 0x100, len: 30, writable: true },
    ];
    const head = t.drv.add(t.mem, bufs, { indirect: { tableAddr: TABLE } })!;
    // A direct descriptor followed by an indirect one (flagged WRITE, which the device ignores).
    DriverQueue.writeDescriptorAt(t.mem, TABLE + 0x100, { addr: DATA + 0x200, len: 5, flags: WRITE | NEXT, next: 1 });
    DriverQueue.writeDescriptorAt(t.mem, TABLE + 0x110, { addr: B + 0x10, len: 6, flags: WRITE, next: 0 });
    t.drv.writeDescriptor(t.mem, 10, { addr: DATA + 0x300, len: 4, flags: NEXT, next: 11 });
    t.drv.writeDescriptor(t.mem, 11, { addr: TABLE + 0x100, len: 32, flags: INDIRECT | WRITE, next: 0 });
    t.drv.pushAvailRaw(t.mem, 10);
    t.drv.publish(t.mem);

    const c1 = t.dev.pop(t.mem)!;
    expect(c1.head).toBe(head);
    expect(c1.descriptors).toEqual(asDescriptors(bufs));
    expect([c1.readableLength, c1.writableLength, c1.firstWritable]).toEqual([30, 30, 2]);

    const c2 = t.dev.pop(t.mem)!;
    expect(c2.head).toBe(10);
    expect(c2.descriptors).toEqual([
      { addr: DATA + 0x300, len: 4, writable: false },
      { addr: DATA + 0x200, len: 5, writable: true },
      { addr: B + 0x10, len: 6, writable: true },
    ]);
    expect([c2.readableLength, c2.writableLength, c2.firstWritable]).toEqual([4, 11, 1]);
    expect(t.dev.malformed).toBe(0);
  });

  it('DescriptorChain copies across segments and regions, honouring offsets', () => {
    const t = setup();
    const readable: DriverBuffer[] = [
      { addr: DATA, len: 5, writable: false },
      { addr: B + 0x10, len: 7, writable: false },
      { addr: DATA + 0x200, len: 4, writable: false },
    ];
    const writable: DriverBuffer[] = [
      { addr: DATA + 0x300, len: 3, writable: true },
      { addr: B + 0x100, len: 6, writable: true },
      { addr: DATA + 0x400, len: 5, writable: true },
    ];
    // Fill memory around every buffer with 0xee, the readable buffers with 1, 2, 3, ...
    for (const b of [...readable, ...writable]) t.mem.write(b.addr - 8, new Uint8Array(b.len + 16).fill(0xee));
    const payload: number[] = [];
    let next = 1;
    for (const b of readable) {
      const bytes = Uint8Array.from({ length: b.len }, () => next++);
      payload.push(...bytes);
      t.mem.write(b.addr, bytes);
    }
    expect(payload).toHaveLength(16);
    t.drv.add(t.mem, [...readable, ...writable]);
    t.drv.publish(t.mem);
    const c = t.dev.pop(t.mem)!;

    expect([...c.readAll(t.mem)]).toEqual(payload);
    const dst = new Uint8Array(6).fill(0xaa);
    expect(c.readInto(t.mem, dst, 3)).toBe(6);
    expect([...dst]).toEqual(payload.slice(3, 9));
    const big = new Uint8Array(10).fill(0xaa);
    expect(c.readInto(t.mem, big, 12)).toBe(4);
    expect([...big]).toEqual([...payload.slice(12), 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa]);
    expect(c.readInto(t.mem, big, 16)).toBe(0);
    expect(c.readInto(t.mem, big, -3)).toBe(0);

    // Write 10 bytes starting 2 bytes into the writable part: 1 byte in seg 0, 6 in seg 1, 3 in seg 2.
    const src = Uint8Array.from({ length: 10 }, (_, i) => 0x40 + i);
    expect(c.writeFrom(t.mem, src, 2)).toBe(10);
    const expectSeg = (b: DriverBuffer, content: number[]): void => {
      expect([...t.mem.read(b.addr - 8, b.len + 16)!]).toEqual([...new Array<number>(8).fill(0xee), ...content, ...new Array<number>(8).fill(0xee)]);
    };
    expectSeg(writable[0]!, [0xee, 0xee, 0x40]);
    expectSeg(writable[1]!, [0x41, 0x42, 0x43, 0x44, 0x45, 0x46]);
    expectSeg(writable[2]!, [0x47, 0x48, 0x49, 0xee, 0xee]);
    // Readable buffers were not touched, and a write longer than the buffers is short.
    expect([...c.readAll(t.mem)]).toEqual(payload);
    expect(c.writeFrom(t.mem, new Uint8Array(20).fill(1))).toBe(14);
    expect(c.writeFrom(t.mem, new Uint8Array(20).fill(1), 14)).toBe(0);
    expect(c.writeFrom(t.mem, new Uint8Array(4).fill(2), -1)).toBe(0);
    expectSeg(writable[2]!, [1, 1, 1, 1, 1]);
  });

  it('addUsed and addUsedBatch write the elements and publish used idx', () => {
    const t = setup();
    const heads = [0, 1, 2, 3].map(() => t.drv.add(t.mem, GOOD)!);
    t.drv.publish(t.mem);
    const popped = heads.map(() => t.dev.pop(t.mem)!.head);
    expect(popped).toEqual(heads);

    t.dev.addUsed(t.mem, popped[0]!, 100);
    expect(usedIdx(t)).toBe(1);
    expect(usedElem(t, 0)).toEqual({ id: popped[0], len: 100 });

    t.dev.addUsedBatch(t.mem, [popped[1]!, popped[2]!, popped[3]!], [200, 0xffff_ffff, 400], 2);
    expect(usedIdx(t)).toBe(3);
    expect(usedElem(t, 1)).toEqual({ id: popped[1], len: 200 });
    expect(usedElem(t, 2)).toEqual({ id: popped[2], len: 0xffff_ffff });
    expect(t.dev.nextUsed).toBe(3);
    t.dev.addUsedBatch(t.mem, [], []);
    expect(usedIdx(t)).toBe(3);
    t.dev.addUsedBatch(t.mem, Uint16Array.of(popped[3]!), Uint32Array.of(400));
    expect(usedIdx(t)).toBe(4);

    expect([1, 2, 3, 4].map(() => t.drv.popUsed(t.mem))).toEqual([
      { id: popped[0], len: 100 },
      { id: popped[1], len: 200 },
      { id: popped[2], len: 0xffff_ffff },
      { id: popped[3], len: 400 },
    ]);
    expect(t.drv.numFree).toBe(t.size);
  });

  it('getState/setState round trip: a new queue resumes where the old one stopped', () => {
    const t = setup();
    const heads = [0, 1, 2, 3].map((i) => t.drv.add(t.mem, [{ addr: DATA + 64 * i, len: 64, writable: true }])!);
    t.drv.publish(t.mem);
    t.dev.addUsed(t.mem, t.dev.pop(t.mem)!.head, 1);
    t.dev.pop(t.mem);
    expect(t.dev.getState()).toEqual({ nextAvail: 2, nextUsed: 1 });

    const again = new SplitQueue({ size: 16, descTable: t.l.descTable, availRing: t.l.availRing, usedRing: t.l.usedRing, eventIdx: false, indirectDesc: true });
    again.setState(t.dev.getState());
    expect(again.getState()).toEqual({ nextAvail: 2, nextUsed: 1 });
    expect(again.pending(t.mem)).toBe(2);
    expect(again.pop(t.mem)?.head).toBe(heads[2]);
    again.addUsed(t.mem, heads[1]!, 2);
    expect(usedIdx(t)).toBe(2);
    expect(usedElem(t, 1)).toEqual({ id: heads[1], len: 2 });

    again.setState({ nextAvail: 0x1_0005, nextUsed: 0x2_ffff });
    expect(again.getState()).toEqual({ nextAvail: 5, nextUsed: 0xffff });
  });

  it('wraps the u16 ring indices (start near 0xfffe)', () => {
    const t = setup({ size: 4, start: 0xfffe });
    const seen: number[] = [];
    for (let round = 0; round < 6; round++) {
      const idx = (0xfffe + round) & 0xffff;
      const head = t.drv.add(t.mem, [{ addr: DATA + 32 * round, len: 32, writable: true }])!;
      expect(rd16(t.mem, t.l.availRing + 4 + 2 * (idx % 4))).toBe(head);
      t.drv.publish(t.mem);
      expect(rd16(t.mem, t.l.availRing + 2)).toBe((idx + 1) & 0xffff);
      const c = t.dev.pop(t.mem)!;
      expect(c.head).toBe(head);
      expect(c.descriptors[0]!.addr).toBe(DATA + 32 * round);
      t.dev.addUsed(t.mem, c.head, 100 + round);
      expect(usedIdx(t)).toBe((idx + 1) & 0xffff);
      expect(usedElem(t, idx % 4)).toEqual({ id: head, len: 100 + round });
      expect(t.drv.popUsed(t.mem)).toEqual({ id: head, len: 100 + round });
      seen.push(idx);
    }
    expect(seen).toEqual([0xfffe, 0xffff, 0, 1, 2, 3]);
    expect(t.dev.getState()).toEqual({ nextAvail: 4, nextUsed: 4 });
    expect(t.dev.pop(t.mem)).toBeUndefined();
  });
});

/** Independent model of vring_need_event: did used->idx move across `event` going from old to new? */
function crossed(event: number, oldIdx: number, count: number): boolean {
  for (let i = 0; i < count; i++) if (((oldIdx + i) & 0xffff) === event) return true;
  return false;
}

/** Makes `count` chains available, pops them and returns them all in one batch. */
function useBatch(t: Setup, count: number): void {
  for (let i = 0; i < count; i++) t.drv.add(t.mem, [{ addr: DATA, len: 8, writable: true }]);
  t.drv.publish(t.mem);
  const heads: number[] = [];
  const lens: number[] = [];
  for (let c = t.dev.pop(t.mem); c !== undefined; c = t.dev.pop(t.mem)) {
    heads.push(c.head);
    lens.push(8);
  }
  expect(heads).toHaveLength(count);
  t.dev.addUsedBatch(t.mem, heads, lens);
  for (let i = 0; i < count; i++) t.drv.popUsed(t.mem);
}

describe('SplitQueue notification suppression', () => {
  it('EVENT_IDX: interrupts exactly when used->idx moves past used_event, with wrap-around', () => {
    const outcomes = { yes: 0, no: 0 };
    for (const start of [0, 5, 0xfffe, 0xfff0]) {
      for (const count of [1, 3]) {
        const newIdx = (start + count) & 0xffff;
        for (const delta of [-2, -1, 0, 1, count - 1, count, count + 1, 0x8000]) {
          const event = (start + delta) & 0xffff;
          const t = setup({ eventIdx: true, start });
          t.drv.setUsedEvent(t.mem, event);
          useBatch(t, count);
          expect(usedIdx(t)).toBe(newIdx);
          const want = crossed(event, start, count);
          expect(t.dev.needsNotification(t.mem), `start ${start} count ${count} used_event ${event}`).toBe(want);
          // Nothing added since: never again, whatever used_event says.
          t.drv.setUsedEvent(t.mem, start);
          expect(t.dev.needsNotification(t.mem)).toBe(false);
          if (want) outcomes.yes++;
          else outcomes.no++;
        }
      }
    }
    expect(outcomes.no).toBeGreaterThan(10); // both outcomes were exercised
    expect(outcomes.yes).toBeGreaterThan(10);
  });

  it('EVENT_IDX: the old index is the one of the last decision, not of the last addUsed', () => {
    const t = setup({ eventIdx: true, start: 0xfffe });
    t.drv.setUsedEvent(t.mem, 0xfffe);
    useBatch(t, 2); // 0xfffe -> 0
    expect(t.dev.needsNotification(t.mem)).toBe(true);
    t.drv.setUsedEvent(t.mem, 3);
    useBatch(t, 2); // 0 -> 2: used_event 3 not reached
    expect(t.dev.needsNotification(t.mem)).toBe(false);
    useBatch(t, 2); // 2 -> 4: crosses 3
    expect(t.dev.needsNotification(t.mem)).toBe(true);
    useBatch(t, 1);
    useBatch(t, 1); // 4 -> 6 over two batches, one decision: used_event 3 is behind
    expect(t.dev.needsNotification(t.mem)).toBe(false);
  });

  it('EVENT_IDX: VIRTQ_AVAIL_F_NO_INTERRUPT is ignored', () => {
    const t = setup({ eventIdx: true });
    wr16(t.mem, t.l.availRing, VIRTQ_AVAIL_F_NO_INTERRUPT);
    t.drv.setUsedEvent(t.mem, 0);
    useBatch(t, 1);
    expect(t.dev.needsNotification(t.mem)).toBe(true);
  });

  it('without EVENT_IDX honours VIRTQ_AVAIL_F_NO_INTERRUPT and ignores used_event', () => {
    const t = setup();
    t.drv.setUsedEvent(t.mem, 0x1234);
    useBatch(t, 1);
    expect(t.dev.needsNotification(t.mem)).toBe(true);
    expect(t.dev.needsNotification(t.mem)).toBe(false); // nothing added since
    t.drv.disableInterrupts(t.mem);
    expect(rd16(t.mem, t.l.availRing) & VIRTQ_AVAIL_F_NO_INTERRUPT).toBe(VIRTQ_AVAIL_F_NO_INTERRUPT);
    useBatch(t, 2);
    expect(t.dev.needsNotification(t.mem)).toBe(false);
    t.drv.enableInterrupts(t.mem);
    expect(rd16(t.mem, t.l.availRing)).toBe(0);
    useBatch(t, 1);
    expect(t.dev.needsNotification(t.mem)).toBe(true);
  });

  it('EVENT_IDX: enableNotification writes avail_event = nextAvail and reports buffers that arrived', () => {
    const t = setup({ eventIdx: true, start: 0xfffe });
    const availEvent = t.l.usedRing + 4 + 8 * t.size;
    for (let i = 0; i < 3; i++) t.drv.add(t.mem, GOOD);
    t.drv.publish(t.mem);
    for (let i = 0; i < 3; i++) t.dev.pop(t.mem);
    expect(t.dev.enableNotification(t.mem)).toBe(false);
    expect(rd16(t.mem, availEvent)).toBe(1);
    expect(rd16(t.mem, t.l.usedRing)).toBe(0); // flags untouched
    t.drv.add(t.mem, GOOD);
    t.drv.publish(t.mem);
    expect(t.dev.enableNotification(t.mem)).toBe(true);
    expect(rd16(t.mem, availEvent)).toBe(1);
    t.dev.pop(t.mem);
    expect(t.dev.enableNotification(t.mem)).toBe(false);
    expect(rd16(t.mem, availEvent)).toBe(2);
    // disableNotification with EVENT_IDX: avail_event one behind nextAvail (the driver has passed it), flags untouched.
    t.dev.disableNotification(t.mem);
    expect(rd16(t.mem, t.l.usedRing)).toBe(0);
    expect(rd16(t.mem, availEvent)).toBe(1);
  });

  it('without EVENT_IDX: disableNotification sets VIRTQ_USED_F_NO_NOTIFY, enableNotification clears it', () => {
    const t = setup();
    const availEvent = t.l.usedRing + 4 + 8 * t.size;
    wr16(t.mem, t.l.usedRing, 0x8000); // an unrelated bit is preserved
    t.dev.disableNotification(t.mem);
    expect(rd16(t.mem, t.l.usedRing)).toBe(0x8000 | VIRTQ_USED_F_NO_NOTIFY);
    expect(t.dev.enableNotification(t.mem)).toBe(false);
    expect(rd16(t.mem, t.l.usedRing)).toBe(0x8000);
    expect(rd16(t.mem, availEvent)).toBe(0);
    t.dev.disableNotification(t.mem);
    t.drv.add(t.mem, GOOD);
    t.drv.publish(t.mem);
    expect(t.dev.enableNotification(t.mem)).toBe(true);
    expect(rd16(t.mem, t.l.usedRing)).toBe(0x8000);
  });
});
