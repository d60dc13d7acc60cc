import { describe, expect, it } from 'vitest';
import { VIRTQ_DESC_F_INDIRECT, VIRTQ_DESC_F_NEXT, VIRTQ_DESC_F_WRITE } from '../defs/virtio.ts';
import { GuestMemory } from '../memory/GuestMemory.ts';
import { ChainError, type ChainErrorMessage } from './ChainError.ts';
import type { DriverBuffer } from './DriverQueue.ts';
import { PackedDriverQueue } from './PackedDriverQueue.ts';
import { PackedQueue } from './PackedQueue.ts';
import type { DirtyLog } from '../dirtylog/DirtyLog.ts';

// Memory map: region A [0x10000, 0x20000), a hole, region B [0x30000, 0x31000).
const A = 0x10000;
const A_SIZE = 0x10000;
const HOLE = 0x20000;
const B = 0x30000;
const B_END = 0x31000;
const DATA = 0x14000;
const TABLE = 0x18000;
const { NEXT, WRITE, INDIRECT } = { NEXT: VIRTQ_DESC_F_NEXT, WRITE: VIRTQ_DESC_F_WRITE, INDIRECT: VIRTQ_DESC_F_INDIRECT };
// The two packed-ring bits, spelled out here rather than imported: the spec under test defines them.
const AVAIL = 0x80;
const USED = 0x8000;

type Setup = ReturnType<typeof setup>;

function setup(opts: { size?: number; eventIdx?: boolean; indirectDesc?: boolean; inOrder?: boolean; start?: number } = {}) {
  const mem = new GuestMemory([
    { guestPhysAddr: A, bytes: new Uint8Array(A_SIZE) },
    { guestPhysAddr: B, bytes: new Uint8Array(B_END - B) },
  ]);
  const size = opts.size ?? 8;
  const start = opts.start ?? 0;
  const l = PackedDriverQueue.layout(A, size);
  const ring = { size, descRing: l.descRing, driverEvent: l.driverEvent, deviceEvent: l.deviceEvent, eventIdx: opts.eventIdx ?? false };
  const drv = new PackedDriverQueue({ ...ring, inOrder: opts.inOrder ?? false, start });
  drv.init(mem);
  const dev = new PackedQueue({ ...ring, indirectDesc: opts.indirectDesc ?? true, inOrder: opts.inOrder ?? false });
  dev.setState({ nextAvail: start, nextUsed: start });
  expect(dev.validate(mem)).toBeUndefined();
  return { mem, drv, dev, l, size };
}

/** Little-endian u16/u32 at `gpa`, assembled from bytes (independent of the DataView/Atomics code under test). */
function rdLe(mem: GuestMemory, gpa: number, n: 2 | 4): number {
  return [...mem.slice(gpa, n)!].reduceRight((acc, b) => acc * 256 + b, 0);
}
const rd16 = (mem: GuestMemory, gpa: number): number => rdLe(mem, gpa, 2);
const rd32 = (mem: GuestMemory, gpa: number): number => rdLe(mem, gpa, 4);
function wr16(mem: GuestMemory, gpa: number, v: number): void {
  mem.write(gpa, Uint8Array.of(v & 0xff, v >>> 8));
}
/** The descriptor at ring position `pos`, read byte by byte. */
function slot(t: Setup, pos: number): { len: number; id: number; flags: number } {
  const gpa = t.l.descRing + 16 * pos;
  return { len: rd32(t.mem, gpa + 8), id: rd16(t.mem, gpa + 12), flags: rd16(t.mem, gpa + 14) };
}
/** Writes a descriptor at ring position `pos` marked available for wrap counter `wrap`. */
function avail(t: Setup, pos: number, d: { addr: number | bigint; len: number; id: number; flags: number }, wrap = true): void {
  PackedDriverQueue.writeDescriptorAt(t.mem, t.l.descRing + 16 * pos, { ...d, flags: d.flags | (wrap ? AVAIL : USED) });
}

const GOOD: readonly DriverBuffer[] = [
  { addr: DATA, len: 32, writable: false },
  { addr: DATA + 0x100, len: 64, writable: true },
];

/**
 * Makes each raw list (written at consecutive positions from 0, ids 1, 2, ...) available and checks
 * that it goes back with len 0, counted under `rule`, then that a good buffer is still popped.
 */
function expectRejected(t: Setup, lists: readonly (readonly { addr: number | bigint; len: number; flags: number }[])[], rule: ChainErrorMessage): void {
  let pos = 0;
  lists.forEach((list, i) => {
    const id = i + 1;
    const at = pos;
    list.forEach((d, j) => avail(t, pos++, { ...d, id, flags: d.flags | (j < list.length - 1 ? NEXT : 0) }));
    expect(t.dev.pop(t.mem), `list ${i}`).toBeUndefined();
    expect(t.dev.lastError, `list ${i}`).toBe(rule);
    expect(t.dev.malformed).toBe(i + 1);
    expect(t.dev.needsReset).toBe(false);
    // One used descriptor where the list started, id and len 0, flags AVAIL|USED (wrap 1), no WRITE.
    expect(slot(t, at)).toEqual({ len: 0, id, flags: AVAIL | USED });
    expect(t.dev.nextUsed).toBe(pos);
  });
  expect(t.dev.inFlight).toBe(0);
}

describe('PackedQueue list validation: a malformed list is returned with len 0, counted, and processing goes on', () => {
  it('rejects addresses outside memory, in the hole and across its edges', () => {
    const t = setup({ size: 16 });
    expectRejected(
      t,
      [
        [{ addr: B_END - 8, len: 16, flags: 0 }],
        [{ addr: HOLE + 0x10, len: 1, flags: WRITE }],
        [{ addr: A + A_SIZE - 8, len: 16, flags: 0 }],
        [
          { addr: DATA, len: 16, flags: 0 },
          { addr: B - 1, len: 2, flags: WRITE },
        ],
      ],
      ChainError.ADDRESS_OUT_OF_MEMORY,
    );
  });

  it('rejects u64 addresses that do not fit below 2^53 (no u64 wrap-around, no rounding)', () => {
    const t = setup();
    expectRejected(
      t,
      [
        [{ addr: 0xffff_ffff_ffff_f000n, len: 0x11000, flags: 0 }],
        [{ addr: 1n << 53n, len: 1, flags: 0 }],
        [{ addr: (1n << 63n) | BigInt(DATA), len: 1, flags: 0 }],
      ],
      ChainError.ADDRESS_OVERFLOW,
    );
  });

  it('rejects a readable element after a writable one (direct and indirect)', () => {
    const t = setup();
    PackedDriverQueue.writeDescriptorAt(t.mem, TABLE, { addr: DATA, len: 8, id: 0, flags: WRITE });
    PackedDriverQueue.writeDescriptorAt(t.mem, TABLE + 16, { addr: DATA, len: 8, id: 0, flags: 0 });
    expectRejected(
      t,
      [
        [
          { addr: DATA, len: 8, flags: WRITE },
          { addr: DATA, len: 8, flags: 0 },
        ],
        [{ addr: TABLE, len: 32, flags: INDIRECT }],
      ],
      ChainError.READABLE_AFTER_WRITABLE,
    );
  });

  it('rejects indirect descriptors: not negotiated, in a list, bad length, too long, outside memory', () => {
    const no = setup({ indirectDesc: false });
    PackedDriverQueue.writeDescriptorAt(no.mem, TABLE, { addr: DATA, len: 8, id: 0, flags: 0 });
    expectRejected(no, [[{ addr: TABLE, len: 16, flags: INDIRECT }]], ChainError.INDIRECT_NOT_NEGOTIATED);

    const t = setup({ size: 32 });
    PackedDriverQueue.writeDescriptorAt(t.mem, TABLE, { addr: DATA, len: 8, id: 0, flags: 0 });
    // An indirect descriptor anywhere in a NEXT list, first or last.
    expectRejected(
      t,
      [
        [
          { addr: TABLE, len: 16, flags: INDIRECT },
          { addr: DATA, len: 8, flags: 0 },
        ],
        [
          { addr: DATA, len: 8, flags: 0 },
          { addr: TABLE, len: 16, flags: INDIRECT },
        ],
      ],
      ChainError.INDIRECT_NEXT,
    );
    const u = setup({ size: 4 });
    expectRejected(u, [[{ addr: TABLE, len: 0, flags: INDIRECT }], [{ addr: TABLE, len: 24, flags: INDIRECT }]], ChainError.INDIRECT_LEN);
    const v = setup({ size: 4 });
    expectRejected(v, [[{ addr: TABLE, len: 16 * 5, flags: INDIRECT }]], ChainError.INDIRECT_TOO_LONG);
    const w = setup({ size: 4 });
    expectRejected(w, [[{ addr: B_END - 16, len: 32, flags: INDIRECT }], [{ addr: HOLE, len: 16, flags: INDIRECT }]], ChainError.INDIRECT_OUT_OF_MEMORY);
  });

  it('pops a good buffer after malformed ones, and the driver gets all of them back', () => {
    const t = setup();
    const bad = t.drv.add(t.mem, [{ addr: HOLE, len: 4, writable: false }])!;
    const good = t.drv.add(t.mem, GOOD)!;
    t.drv.publish(t.mem);
    const chain = t.dev.pop(t.mem);
    expect(chain?.head).toBe(good);
    expect(chain?.descriptors).toEqual(GOOD.map((b) => ({ ...b })));
    expect(t.dev.malformed).toBe(1);
    expect(t.drv.popUsed(t.mem)).toEqual({ id: bad, len: 0 });
    t.dev.addUsed(t.mem, good, 5);
    expect(t.drv.popUsed(t.mem)).toEqual({ id: good, len: 5 });
    expect(t.drv.popUsed(t.mem)).toBeUndefined();
    expect(t.drv.numFree).toBe(8);
  });
});

describe('PackedQueue ring-level corruption: NEEDS_RESET and the queue stops', () => {
  function expectBroken(t: Setup, reason: ChainErrorMessage): void {
    expect(t.dev.pop(t.mem)).toBeUndefined();
    expect(t.dev.brokenReason).toBe(reason);
    expect(t.dev.needsReset).toBe(true);
    // Stopped for good: nothing more is popped or written.
    const before = t.mem.read(t.l.descRing, 16 * t.size)!;
    expect(t.dev.pop(t.mem)).toBeUndefined();
    t.dev.addUsed(t.mem, 0, 1);
    expect(t.dev.needsNotification(t.mem)).toBe(false);
    expect(t.mem.read(t.l.descRing, 16 * t.size)).toEqual(before);
  }

  it('stops on a buffer id out of range', () => {
    const t = setup({ size: 5 });
    avail(t, 0, { addr: DATA, len: 8, id: 5, flags: 0 });
    expectBroken(t, ChainError.INVALID_BUFFER_ID);
  });

  it('stops on a buffer id already in flight', () => {
    const t = setup();
    avail(t, 0, { addr: DATA, len: 8, id: 3, flags: 0 });
    avail(t, 1, { addr: DATA, len: 8, id: 3, flags: 0 });
    expect(t.dev.pop(t.mem)?.head).toBe(3);
    expectBroken(t, ChainError.INVALID_BUFFER_ID);
  });

  it('stops on a list that continues into a descriptor not available (stale wrap bits, zero flags)', () => {
    const t = setup();
    avail(t, 0, { addr: DATA, len: 8, id: 1, flags: NEXT });
    avail(t, 1, { addr: DATA, len: 8, id: 1, flags: 0 }, false); // marked for the other lap
    expectBroken(t, ChainError.CHAIN_NOT_AVAILABLE);
    const u = setup();
    avail(u, 0, { addr: DATA, len: 8, id: 1, flags: NEXT });
    expectBroken(u, ChainError.CHAIN_NOT_AVAILABLE);
  });

  it('follows a list across the end of the ring (wrap bits flip there) but not past the free descriptors', () => {
    const t = setup({ size: 4, start: 2 });
    avail(t, 2, { addr: DATA, len: 8, id: 0, flags: NEXT });
    avail(t, 3, { addr: DATA + 8, len: 8, id: 0, flags: NEXT });
    avail(t, 0, { addr: DATA + 16, len: 8, id: 0, flags: 0 }, false);
    expect(t.dev.pop(t.mem)?.descriptors.map((d) => d.addr)).toEqual([DATA, DATA + 8, DATA + 16]);
    expect(t.dev.getState()).toEqual({ nextAvail: 1, availWrap: false, nextUsed: 2, usedWrap: true });
    // Every descriptor NEXT, all marked available for the lap they sit in: longer than the free part.
    const u = setup({ size: 4 });
    for (let p = 0; p < 4; p++) avail(u, p, { addr: DATA, len: 8, id: 0, flags: NEXT });
    expectBroken(u, ChainError.CHAIN_TOO_LONG);
  });

  it('stops when the driver rewrites descriptors the device still holds to look available', () => {
    const t = setup({ size: 2 });
    t.drv.add(t.mem, [{ addr: DATA, len: 8, writable: false }]);
    t.drv.add(t.mem, [{ addr: DATA, len: 8, writable: false }]);
    t.drv.publish(t.mem);
    expect(t.dev.pop(t.mem)).toBeDefined();
    expect(t.dev.pop(t.mem)).toBeDefined();
    expect(t.dev.inFlight).toBe(2);
    // Position 0 again, now for wrap counter 0: the driver may not do this before it got it back.
    avail(t, 0, { addr: DATA, len: 8, id: 1, flags: 0 }, false);
    expectBroken(t, ChainError.CHAIN_TOO_LONG);
  });

  it('validate() reports misaligned parts, parts outside memory and bad sizes', () => {
    const mem = new GuestMemory([{ guestPhysAddr: A, bytes: new Uint8Array(0x1000) }]);
    const q = (c: Partial<ConstructorParameters<typeof PackedQueue>[0]>): PackedQueue =>
      new PackedQueue({ size: 8, descRing: A, driverEvent: A + 0x80, deviceEvent: A + 0x84, eventIdx: false, indirectDesc: false, inOrder: false, ...c });
    expect(q({}).validate(mem)).toBeUndefined();
    expect(q({ size: 5 }).validate(mem)).toBeUndefined(); // packed sizes need not be powers of two
    expect(q({ descRing: A + 8 }).validate(mem)).toBe(ChainError.PACKED_RING_MISALIGNED);
    expect(q({ driverEvent: A + 0x82 }).validate(mem)).toBe(ChainError.PACKED_RING_MISALIGNED);
    expect(q({ deviceEvent: A + 0x86 }).validate(mem)).toBe(ChainError.PACKED_RING_MISALIGNED);
    expect(q({ descRing: A + 0xf80 }).validate(mem)).toBeUndefined(); // ends on the last byte
    expect(q({ descRing: A + 0xf90 }).validate(mem)).toBe(ChainError.PACKED_RING_OUT_OF_MEMORY); // runs past the end
    expect(q({ deviceEvent: A + 0x1000 }).validate(mem)).toBe(ChainError.PACKED_RING_OUT_OF_MEMORY);
    expect(q({ driverEvent: 2 ** 60 }).validate(mem)).toBe(ChainError.PACKED_RING_OUT_OF_MEMORY);
    for (const size of [0, -1, 1.5, 32769]) expect(q({ size }).validate(mem)).toBe(ChainError.PACKED_INVALID_SIZE);
    expect(q({ size: 32768, descRing: A }).validate(mem)).toBe(ChainError.PACKED_RING_OUT_OF_MEMORY);
  });

  it('pop() without validate() stops on a descriptor ring outside memory, never throws', () => {
    const mem = new GuestMemory([{ guestPhysAddr: A, bytes: new Uint8Array(0x100) }]);
    const q = new PackedQueue({ size: 8, descRing: HOLE, driverEvent: A, deviceEvent: A + 4, eventIdx: true, indirectDesc: true, inOrder: true });
    expect(q.pop(mem)).toBeUndefined();
    expect(q.brokenReason).toBe(ChainError.PACKED_RING_OUT_OF_MEMORY);
  });

  it('setState() refuses positions out of range and a used position ahead of the available one', () => {
    const mk = (): PackedQueue =>
      new PackedQueue({ size: 8, descRing: A, driverEvent: A + 0x80, deviceEvent: A + 0x84, eventIdx: false, indirectDesc: false, inOrder: false });
    const bad = [
      { nextAvail: 8, nextUsed: 0 },
      { nextAvail: 0, nextUsed: -1 },
      { nextAvail: 2, nextUsed: 3 }, // same lap, used ahead
      { nextAvail: 3, nextUsed: 2, availWrap: false, usedWrap: true }, // avail a lap ahead and past used: more than size held
    ];
    for (const s of bad) {
      const q = mk();
      q.setState(s);
      expect(q.brokenReason, JSON.stringify(s)).toBe(ChainError.PACKED_INVALID_STATE);
    }
    const ok = mk();
    ok.setState({ nextAvail: 2, nextUsed: 3, availWrap: false, usedWrap: true });
    expect(ok.needsReset).toBe(false);
    expect(ok.inFlight).toBe(7);
  });
});

describe('PackedQueue buffers', () => {
  it('round trip: ids, lengths, wrap counters and the used descriptor layout, over several laps of a size-3 ring', () => {
    const t = setup({ size: 3 });
    const src = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
    t.mem.write(DATA, src);
    let pos = 0;
    let wrap = true;
    for (let round = 0; round < 10; round++) {
      const two = round % 2 === 0;
      const buffers: DriverBuffer[] = two
        ? [
            { addr: DATA, len: 8, writable: false },
            { addr: DATA + 0x100 + 16 * round, len: 16, writable: true },
          ]
        : [{ addr: DATA, len: 8, writable: false }];
      const id = t.drv.add(t.mem, buffers)!;
      expect(t.dev.pop(t.mem), 'not available before publish').toBeUndefined();
      t.drv.publish(t.mem);
      // What the driver wrote, read byte by byte: AVAIL = wrap, USED = !wrap, NEXT on all but the last.
      for (let i = 0; i < buffers.length; i++) {
        const f = slot(t, (pos + i) % 3).flags;
        const w = pos + i >= 3 ? !wrap : wrap;
        expect(f & (AVAIL | USED)).toBe(w ? AVAIL : USED);
        expect((f & NEXT) !== 0).toBe(i < buffers.length - 1);
      }
      const chain = t.dev.pop(t.mem)!;
      expect(chain.head).toBe(id);
      expect(chain.readAll(t.mem)).toEqual(src);
      const n = chain.writeFrom(t.mem, new Uint8Array(chain.writableLength).fill(round));
      t.dev.addUsed(t.mem, id, n);
      // The used descriptor overwrote the list's first slot: AVAIL = USED = device wrap, WRITE when len > 0.
      expect(slot(t, pos)).toEqual({ len: n, id, flags: (wrap ? AVAIL | USED : 0) | (n > 0 ? WRITE : 0) });
      expect(t.drv.popUsed(t.mem)).toEqual({ id, len: n });
      if (two) expect(t.mem.read(DATA + 0x100 + 16 * round, 16)).toEqual(new Uint8Array(16).fill(round));
      pos += buffers.length;
      if (pos >= 3) {
        pos -= 3;
        wrap = !wrap;
      }
      expect(t.dev.getState()).toEqual({ nextAvail: pos, availWrap: wrap, nextUsed: pos, usedWrap: wrap });
    }
    expect(t.drv.numFree).toBe(3);
  });

  it('completes out of order: each used descriptor at the next used position, skipping its own list length', () => {
    const t = setup({ size: 8 });
    const a = t.drv.add(t.mem, [
      { addr: DATA, len: 8, writable: false },
      { addr: DATA, len: 8, writable: false },
      { addr: DATA, len: 8, writable: true },
    ])!;
    const b = t.drv.add(t.mem, [{ addr: DATA, len: 8, writable: true }])!;
    t.drv.publish(t.mem);
    expect(t.dev.pending(t.mem)).toBe(2);
    expect(t.dev.pop(t.mem)?.head).toBe(a);
    expect(t.dev.pop(t.mem)?.head).toBe(b);
    expect(t.dev.inFlight).toBe(4);
    t.dev.addUsed(t.mem, b, 8);
    expect(slot(t, 0)).toEqual({ len: 8, id: b, flags: AVAIL | USED | WRITE });
    expect(t.dev.nextUsed).toBe(1);
    t.dev.addUsed(t.mem, a, 3);
    expect(slot(t, 1)).toEqual({ len: 3, id: a, flags: AVAIL | USED | WRITE });
    expect(t.dev.nextUsed).toBe(4);
    expect(t.dev.inFlight).toBe(0);
    expect(t.drv.usedPending(t.mem)).toBe(2);
    expect(t.drv.popUsed(t.mem)).toEqual({ id: b, len: 8 });
    expect(t.drv.popUsed(t.mem)).toEqual({ id: a, len: 3 });
    expect(t.drv.nextUsed).toEqual({ pos: 4, wrap: true });
    // An id not in flight (or never valid) is ignored.
    t.dev.addUsed(t.mem, a, 1);
    t.dev.addUsed(t.mem, 99, 1);
    expect(t.dev.nextUsed).toBe(4);
    expect(t.drv.popUsed(t.mem)).toBeUndefined();
  });

  it('flattens an indirect table: only WRITE counts there, ids and NEXT are ignored', () => {
    const t = setup();
    PackedDriverQueue.writeDescriptorAt(t.mem, TABLE, { addr: DATA, len: 4, id: 77, flags: NEXT });
    PackedDriverQueue.writeDescriptorAt(t.mem, TABLE + 16, { addr: DATA + 4, len: 4, id: 0, flags: WRITE | AVAIL });
    PackedDriverQueue.writeDescriptorAt(t.mem, TABLE + 32, { addr: DATA + 8, len: 4, id: 0, flags: WRITE | INDIRECT });
    avail(t, 0, { addr: TABLE, len: 48, id: 6, flags: INDIRECT | WRITE });
    const chain = t.dev.pop(t.mem)!;
    expect(chain.head).toBe(6);
    expect(chain.descriptors).toEqual([
      { addr: DATA, len: 4, writable: false },
      { addr: DATA + 4, len: 4, writable: true },
      { addr: DATA + 8, len: 4, writable: true },
    ]);
    // The driver's own indirect path round-trips too.
    const d = setup();
    const id = d.drv.add(d.mem, GOOD, { indirect: { tableAddr: TABLE } })!;
    d.drv.publish(d.mem);
    const c = d.dev.pop(d.mem)!;
    expect(c.descriptors).toEqual(GOOD.map((b) => ({ ...b })));
    expect(d.dev.inFlight).toBe(1);
    d.dev.addUsed(d.mem, c.head, 9);
    expect(d.drv.popUsed(d.mem)).toEqual({ id, len: 9 });
  });

  it('getState/setState: a new queue resumes mid-ring on the second lap', () => {
    const t = setup({ size: 4 });
    for (let i = 0; i < 5; i++) {
      t.drv.add(t.mem, [{ addr: DATA, len: 8, writable: true }]);
      t.drv.publish(t.mem);
      const c = t.dev.pop(t.mem)!;
      t.dev.addUsed(t.mem, c.head, 8);
      t.drv.popUsed(t.mem);
    }
    const state = t.dev.getState();
    expect(state).toEqual({ nextAvail: 1, availWrap: false, nextUsed: 1, usedWrap: false });
    const again = new PackedQueue({
      size: 4,
      descRing: t.l.descRing,
      driverEvent: t.l.driverEvent,
      deviceEvent: t.l.deviceEvent,
      eventIdx: false,
      indirectDesc: true,
      inOrder: false,
    });
    again.setState(JSON.parse(JSON.stringify(state)) as typeof state);
    expect(again.pop(t.mem)).toBeUndefined();
    const id = t.drv.add(t.mem, [{ addr: DATA, len: 8, writable: true }])!;
    t.drv.publish(t.mem);
    const c = again.pop(t.mem)!;
    expect(c.head).toBe(id);
    again.addUsed(t.mem, id, 2);
    expect(slot(t, 1).flags & (AVAIL | USED)).toBe(0); // device wrap counter 0 now
    expect(t.drv.popUsed(t.mem)).toEqual({ id, len: 2 });
  });
});

describe('PackedQueue IN_ORDER and batches', () => {
  function post(t: Setup, n: number, len: number, writable: boolean): number[] {
    const ids = Array.from({ length: n }, () => t.drv.add(t.mem, [{ addr: DATA, len, writable }])!);
    t.drv.publish(t.mem);
    for (const id of ids) expect(t.dev.pop(t.mem)?.head).toBe(id);
    return ids;
  }

  it('IN_ORDER: a batch of fully used buffers becomes one used descriptor with the last id', () => {
    const t = setup({ inOrder: true });
    const ids = post(t, 3, 64, false);
    t.dev.addUsedBatch(t.mem, ids, [0, 0, 0]);
    expect(slot(t, 0)).toEqual({ len: 0, id: ids[2], flags: AVAIL | USED });
    // Positions 1 and 2 still hold the driver's available descriptors: the device skipped them.
    expect(slot(t, 1).flags & (AVAIL | USED)).toBe(AVAIL);
    expect(t.dev.nextUsed).toBe(3);
    expect([t.drv.popUsed(t.mem), t.drv.popUsed(t.mem), t.drv.popUsed(t.mem)]).toEqual(ids.map((id) => ({ id, len: 0 })));
    expect(t.drv.popUsed(t.mem)).toBeUndefined();
    expect(t.drv.numFree).toBe(8);
  });

  it('IN_ORDER: a buffer with device-writable bytes keeps its own used descriptor, even filled; a completion ahead of its turn waits', () => {
    const t = setup({ inOrder: true });
    const ids = post(t, 4, 100, true);
    t.dev.addUsedBatch(t.mem, ids, [100, 40, 100, 100]);
    // Each RX buffer's length is written (DPDK's in-order RX reads every used descriptor's).
    expect([0, 1, 2, 3].map((p) => slot(t, p))).toEqual([100, 40, 100, 100].map((len, i) => ({ len, id: ids[i], flags: AVAIL | USED | WRITE })));
    expect([0, 1, 2, 3].map(() => t.drv.popUsed(t.mem))).toEqual([100, 40, 100, 100].map((len, i) => ({ id: ids[i], len })));
    // TX buffers completed out of pop order: the last one first waits, then the run goes as one descriptor.
    const more = post(t, 3, 8, false);
    t.dev.addUsed(t.mem, more[2]!, 0);
    expect(slot(t, 4).flags & (AVAIL | USED)).toBe(AVAIL);
    expect(t.drv.popUsed(t.mem)).toBeUndefined();
    t.dev.addUsedBatch(t.mem, [more[1]!, more[0]!], [0, 0]);
    expect(slot(t, 4)).toEqual({ len: 0, id: more[2], flags: AVAIL | USED });
    expect([slot(t, 5).flags & (AVAIL | USED), slot(t, 6).flags & (AVAIL | USED)]).toEqual([AVAIL, AVAIL]);
    expect(t.dev.nextUsed).toBe(7);
    expect([0, 1, 2].map(() => t.drv.popUsed(t.mem))).toEqual(more.map((id) => ({ id, len: 0 })));
  });

  it('IN_ORDER: a malformed list goes back only after the buffers made available before it', () => {
    const t = setup({ inOrder: true });
    const a = t.drv.add(t.mem, [{ addr: DATA, len: 8, writable: true }])!;
    const bad = t.drv.add(t.mem, [{ addr: HOLE, len: 8, writable: true }])!;
    const c = t.drv.add(t.mem, [{ addr: DATA, len: 8, writable: true }])!;
    t.drv.publish(t.mem);
    expect(t.dev.pop(t.mem)?.head).toBe(a);
    expect(t.dev.pop(t.mem)?.head).toBe(c);
    expect(t.dev.malformed).toBe(1);
    // Nothing written yet: a used descriptor for `bad` would tell the driver `a` was used too.
    expect(t.drv.popUsed(t.mem)).toBeUndefined();
    t.dev.addUsedBatch(t.mem, [a, c], [3, 5]);
    expect([slot(t, 0).id, slot(t, 1).id, slot(t, 2).id]).toEqual([a, bad, c]);
    expect([t.drv.popUsed(t.mem), t.drv.popUsed(t.mem), t.drv.popUsed(t.mem)]).toEqual([
      { id: a, len: 3 },
      { id: bad, len: 0 },
      { id: c, len: 5 },
    ]);
    // With nothing before it, a malformed list goes back at once.
    t.drv.add(t.mem, [{ addr: HOLE, len: 8, writable: true }]);
    t.drv.publish(t.mem);
    expect(t.dev.pop(t.mem)).toBeUndefined();
    expect(t.drv.popUsed(t.mem)?.len).toBe(0);
    expect(t.dev.inFlight).toBe(0);
  });

  it('without IN_ORDER every buffer of a batch gets its own used descriptor', () => {
    const t = setup();
    const ids = post(t, 3, 8, false);
    t.dev.addUsedBatch(t.mem, ids, [0, 0, 0]);
    expect([0, 1, 2].map((p) => slot(t, p))).toEqual(ids.map((id) => ({ len: 0, id, flags: AVAIL | USED })));
  });

  it('with a dirty log, a batch marks every used descriptor it wrote (length, id, flags) after writing it', () => {
    const t = setup();
    const ids = post(t, 3, 8, false);
    const marks: [number, number][] = [];
    t.dev.dirtyLog = {
      markRange: (gpa: number, len: number) => {
        // Marked after the write: the descriptor already says used.
        expect(rd16(t.mem, gpa + len - 2) & (AVAIL | USED)).toBe(AVAIL | USED);
        marks.push([gpa, len]);
      },
    } as unknown as DirtyLog;
    t.dev.addUsedBatch(t.mem, ids, [0, 0, 0]);
    const covered = (gpa: number): boolean => marks.some(([g, l]) => gpa >= g && gpa < g + l);
    for (let p = 0; p < 3; p++) for (let b = 8; b < 16; b++) expect(covered(t.l.descRing + 16 * p + b), `descriptor ${p} byte ${b}`).toBe(true);
    expect(covered(t.l.descRing + 16 * 3 + 14)).toBe(false);
  });

  it('a batch publishes the first used descriptor last (the driver never sees part of it)', () => {
    const t = setup();
    const ids = post(t, 3, 8, true);
    const order: number[] = [];
    // Watch the flag stores: a memory whose windows have no 16-bit view (every ring store then goes
    // through DataView.setUint16) and a DataView that records each store to a descriptor's flags.
    const spy = new Proxy(t.mem, {
      get(target, prop, recv) {
        if (prop !== 'regionOf') return Reflect.get(target, prop, recv) as unknown;
        return (gpa: number, len: number) => {
          const r = target.regionOf(gpa, len);
          if (r === undefined) return r;
          const ring = t.l.descRing - r.guestPhysAddr;
          const view = new Proxy(r.view, {
            get(v, name) {
              if (name === 'setUint16') {
                return (off: number, value: number, le?: boolean) => {
                  if (off >= ring && (off - ring) % 16 === 14) order.push((off - ring - 14) / 16);
                  v.setUint16(off, value, le);
                };
              }
              const f = Reflect.get(v, name) as unknown;
              return typeof f === 'function' ? (f as (...a: unknown[]) => unknown).bind(v) : f;
            },
          });
          return { ...r, u16: undefined, view };
        };
      },
    });
    t.dev.addUsedBatch(spy, ids, [8, 8, 8]);
    expect(order).toEqual([1, 2, 0]);
    expect(t.drv.usedPending(t.mem)).toBe(3);
  });
});

describe('PackedQueue event suppression', () => {
  function used(t: Setup, n: number): void {
    for (let i = 0; i < n; i++) {
      t.drv.add(t.mem, [{ addr: DATA, len: 8, writable: false }]);
      t.drv.publish(t.mem);
      const c = t.dev.pop(t.mem)!;
      t.dev.addUsed(t.mem, c.head, 0);
      t.drv.popUsed(t.mem);
    }
  }
  const driverFlags = (t: Setup, flags: number, off = 0): void => {
    wr16(t.mem, t.l.driverEvent, off);
    wr16(t.mem, t.l.driverEvent + 2, flags);
  };

  it('without EVENT_IDX: ENABLE interrupts, DISABLE does not, DESC counts as ENABLE; nothing new, no interrupt', () => {
    const t = setup();
    expect(t.dev.needsNotification(t.mem)).toBe(false);
    used(t, 1);
    expect(t.dev.needsNotification(t.mem)).toBe(true);
    expect(t.dev.needsNotification(t.mem)).toBe(false);
    driverFlags(t, 1);
    used(t, 1);
    expect(t.dev.needsNotification(t.mem)).toBe(false);
    driverFlags(t, 2, 0x7fff);
    used(t, 1);
    expect(t.dev.needsNotification(t.mem)).toBe(true);
    driverFlags(t, 3); // reserved: interrupt (a spurious interrupt is harmless, a lost one hangs)
    used(t, 1);
    expect(t.dev.needsNotification(t.mem)).toBe(true);
  });

  it('EVENT_IDX: interrupts exactly when the used position passes the event offset of the named lap', () => {
    const t = setup({ size: 4, eventIdx: true });
    // Event at position 2, lap 1 (wrap 1): used positions 0, 1 do not pass it, 2 does.
    driverFlags(t, 2, 2 | 0x8000);
    used(t, 2);
    expect(t.dev.needsNotification(t.mem)).toBe(false);
    used(t, 1);
    expect(t.dev.needsNotification(t.mem)).toBe(true);
    // Event at position 0 of lap 2 (wrap 0): using position 3 (end of lap 1) does not pass it...
    driverFlags(t, 2, 0);
    used(t, 1);
    expect(t.dev.getState().usedWrap).toBe(false);
    expect(t.dev.needsNotification(t.mem)).toBe(false);
    // ...using position 0 of lap 2 does.
    used(t, 1);
    expect(t.dev.needsNotification(t.mem)).toBe(true);
    // An event named in the previous lap (position 3, wrap 1) is passed by a batch that crossed it.
    driverFlags(t, 2, 3 | 0x8000);
    used(t, 1);
    expect(t.dev.needsNotification(t.mem)).toBe(false); // position 1 of lap 2: event long behind, old already past it
    // DISABLE wins over EVENT_IDX.
    driverFlags(t, 1, 2);
    used(t, 4);
    expect(t.dev.needsNotification(t.mem)).toBe(false);
  });

  it('EVENT_IDX: a batch across the end of the ring is compared in one numbering', () => {
    const t = setup({ size: 4, eventIdx: true, start: 3 });
    driverFlags(t, 2, 3 | 0x8000); // position 3 of the first lap
    used(t, 2); // positions 3 (lap 1) and 0 (lap 2)
    expect(t.dev.needsNotification(t.mem)).toBe(true);
    driverFlags(t, 2, 1 | 0x0000); // position 1 of lap 2
    used(t, 1); // position 1 used: passes it
    expect(t.dev.needsNotification(t.mem)).toBe(true);
  });

  it('enableNotification/disableNotification write the Device Event Suppression structure the driver reads', () => {
    const t = setup();
    t.dev.disableNotification(t.mem);
    expect(rd16(t.mem, t.l.deviceEvent + 2)).toBe(1);
    t.drv.add(t.mem, [{ addr: DATA, len: 8, writable: false }]);
    t.drv.publish(t.mem);
    expect(t.drv.kickNeeded(t.mem)).toBe(false);
    expect(t.dev.enableNotification(t.mem)).toBe(true); // a buffer is waiting
    expect(rd16(t.mem, t.l.deviceEvent + 2)).toBe(0);
    t.dev.pop(t.mem);
    expect(t.dev.enableNotification(t.mem)).toBe(false);
    t.drv.add(t.mem, [{ addr: DATA, len: 8, writable: false }]);
    t.drv.publish(t.mem);
    expect(t.drv.kickNeeded(t.mem)).toBe(true);
    expect(t.drv.kickNeeded(t.mem)).toBe(false); // nothing added since
  });

  it('EVENT_IDX: enableNotification asks for a kick at nextAvail with its wrap counter; the driver honours the offset', () => {
    const t = setup({ size: 2, eventIdx: true });
    const one = (): number => t.drv.add(t.mem, [{ addr: DATA, len: 8, writable: false }])!;
    for (let i = 0; i < 5; i++) {
      expect(t.dev.enableNotification(t.mem)).toBe(false);
      const s = t.dev.getState();
      expect(rd16(t.mem, t.l.deviceEvent)).toBe(s.nextAvail | (s.availWrap === true ? 0x8000 : 0));
      expect(rd16(t.mem, t.l.deviceEvent + 2)).toBe(2);
      one();
      t.drv.publish(t.mem);
      expect(t.drv.kickNeeded(t.mem), `round ${i}`).toBe(true);
      const c = t.dev.pop(t.mem)!;
      t.dev.addUsed(t.mem, c.head, 0);
      t.drv.popUsed(t.mem);
    }
    // Device now at position 1 of a wrap-1 lap. Ask for a kick only when position 0 of the next (wrap 0) lap is made available.
    expect(t.dev.getState()).toEqual({ nextAvail: 1, availWrap: true, nextUsed: 1, usedWrap: true });
    wr16(t.mem, t.l.deviceEvent, 0);
    one();
    t.drv.publish(t.mem);
    expect(t.drv.kickNeeded(t.mem)).toBe(false); // position 1 made available, not 0
    one();
    t.drv.publish(t.mem);
    expect(t.drv.kickNeeded(t.mem)).toBe(true); // position 0 of lap (wrap 1)
    t.dev.disableNotification(t.mem);
    expect(t.dev.pop(t.mem)).toBeDefined();
  });
});
