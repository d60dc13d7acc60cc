import { describe, expect, it } from 'vitest';
import { VIRTQ_DESC_F_INDIRECT, VIRTQ_DESC_F_NEXT } from '../defs/virtio.ts';
import { GuestMemory } from '../memory/GuestMemory.ts';
import { ChainArena } from './ChainArena.ts';
import { ChainError } from './ChainError.ts';
import { DriverQueue, type DriverBuffer } from './DriverQueue.ts';
import { SplitQueue } from './SplitQueue.ts';

// popInto is pop() without objects: the same chains, parsed into a ChainArena's typed arrays.
// Two identical rings are driven the same way; one is read with pop(), the other with popInto(),
// and every chain, malformed count and used-ring entry must agree.

const BASE = 0x10000;
const DATA = 0x14000;
const TABLE = 0x18000;

function ring(size = 16): { mem: GuestMemory; drv: DriverQueue; dev: SplitQueue } {
  const mem = new GuestMemory([{ guestPhysAddr: BASE, bytes: new Uint8Array(0x10000) }]);
  const l = DriverQueue.layout(BASE, size);
  const cfg = { size, descTable: l.descTable, availRing: l.availRing, usedRing: l.usedRing, eventIdx: false };
  const drv = new DriverQueue({ ...cfg, start: 0 });
  drv.init(mem);
  const dev = new SplitQueue({ ...cfg, indirectDesc: true });
  expect(dev.validate(mem)).toBeUndefined();
  return { mem, drv, dev };
}

/** Chains of every shape: readable only, writable only, mixed, indirect, zero-length buffers. */
const CHAINS: readonly (readonly DriverBuffer[])[] = [
  [{ addr: DATA, len: 60, writable: false }],
  [
    { addr: DATA, len: 12, writable: false },
    { addr: DATA + 0x100, len: 1500, writable: false },
  ],
  [{ addr: DATA + 0x800, len: 2048, writable: true }],
  [
    { addr: DATA, len: 10, writable: false },
    { addr: DATA + 0x40, len: 0, writable: true },
    { addr: DATA + 0x80, len: 300, writable: true },
  ],
];

function post(t: { mem: GuestMemory; drv: DriverQueue }, i: number): void {
  const b = CHAINS[i % CHAINS.length]!;
  const head = i % 3 === 2 ? t.drv.add(t.mem, b, { indirect: { tableAddr: TABLE + 0x100 * (i % 8) } }) : t.drv.add(t.mem, b);
  expect(head).toBeDefined();
}

/** Everything the arena holds of chain `c`. */
function chainOf(arena: ChainArena, c: number): Record<string, unknown> {
  const from = arena.descStart[c]!;
  const to = from + arena.descCount[c]!;
  return {
    head: arena.head[c],
    pos: arena.availPos[c],
    addrs: Array.from(arena.addr.subarray(from, to)),
    lens: Array.from(arena.len.subarray(from, to)),
    firstWritable: arena.firstWritable[c],
    readable: arena.readable[c],
    writable: arena.writable[c],
  };
}

describe('SplitQueue.popInto', () => {
  it('parses the same chains as pop(), with their avail positions, across a ring wrap', () => {
    const a = ring();
    const b = ring();
    const arena = new ChainArena(8, 16);
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < 6; i++) {
        post(a, round * 6 + i);
        post(b, round * 6 + i);
      }
      a.drv.publish(a.mem);
      b.drv.publish(b.mem);
      arena.clear();
      for (let i = 0; i < 6; i++) {
        const want = a.dev.pop(a.mem)!;
        const pos = b.dev.nextAvail;
        expect(b.dev.popInto(b.mem, arena)).toBe(true);
        const s = arena.descStart[i]!;
        expect(arena.length).toBe(i + 1);
        expect(arena.head[i]).toBe(want.head);
        expect(arena.availPos[i]).toBe(pos);
        expect(arena.descCount[i]).toBe(want.descriptors.length);
        expect(arena.firstWritable[i]).toBe(want.firstWritable);
        expect(arena.readable[i]).toBe(want.readableLength);
        expect(arena.writable[i]).toBe(want.writableLength);
        const got = Array.from({ length: arena.descCount[i]! }, (_, k) => ({
          addr: arena.addr[s + k],
          len: arena.len[s + k],
          writable: k >= arena.firstWritable[i]!,
        }));
        expect(got).toEqual(want.descriptors);
        a.dev.addUsed(a.mem, want.head, 0);
        b.dev.addUsed(b.mem, arena.head[i]!, 0);
      }
      expect(b.dev.popInto(b.mem, arena)).toBe(false); // empty ring
      for (let i = 0; i < 6; i++) expect(b.drv.popUsed(b.mem)).toEqual(a.drv.popUsed(a.mem));
    }
    expect(b.dev.nextAvail).toBe(60);
  });

  it('returns a malformed chain with used length 0 and counts it, as pop() does, and goes on', () => {
    const t = ring();
    const arena = new ChainArena(4, 16);
    t.drv.writeDescriptor(t.mem, 10, { addr: DATA, len: 16, flags: VIRTQ_DESC_F_NEXT, next: 11 });
    t.drv.writeDescriptor(t.mem, 11, { addr: DATA, len: 16, flags: VIRTQ_DESC_F_NEXT, next: 10 });
    t.drv.pushAvailRaw(t.mem, 10);
    post(t, 0);
    t.drv.publish(t.mem);
    expect(t.dev.popInto(t.mem, arena)).toBe(true);
    expect(t.dev.malformed).toBe(1);
    expect(t.dev.lastError).toBe(ChainError.LOOP);
    expect(arena.length).toBe(1);
    expect(arena.availPos[0]).toBe(1); // the bad chain took position 0
    expect(t.drv.popUsed(t.mem)).toEqual({ id: 10, len: 0 });
  });

  it('refuses a chain of direct buffers and an indirect table longer than the queue size', () => {
    const t = ring(4);
    const arena = new ChainArena(2, 4);
    // Three direct buffers, then an indirect table of two: five buffers in a queue of four.
    for (let i = 0; i < 3; i++) t.drv.writeDescriptor(t.mem, i, { addr: DATA, len: 8, flags: VIRTQ_DESC_F_NEXT, next: i + 1 });
    t.drv.writeDescriptor(t.mem, 3, { addr: TABLE, len: 32, flags: VIRTQ_DESC_F_INDIRECT, next: 0 });
    DriverQueue.writeDescriptorAt(t.mem, TABLE, { addr: DATA, len: 8, flags: VIRTQ_DESC_F_NEXT, next: 1 });
    DriverQueue.writeDescriptorAt(t.mem, TABLE + 16, { addr: DATA, len: 8, flags: 0, next: 0 });
    t.drv.pushAvailRaw(t.mem, 0);
    t.drv.publish(t.mem);
    expect(t.dev.popInto(t.mem, arena)).toBe(false);
    expect(t.dev.malformed).toBe(1);
    expect(t.dev.lastError).toBe(ChainError.LOOP);
    expect(arena.descs).toBe(0); // nothing half-written is kept
  });

  it('pops nothing while the arena has no room for a whole chain (a free slot and maxChainDescs descriptors)', () => {
    const t = ring();
    for (let i = 0; i < 8; i++) post(t, 0); // single-buffer chains
    t.drv.publish(t.mem);
    const slots = new ChainArena(2, 16);
    expect(t.dev.popInto(t.mem, slots)).toBe(true);
    expect(t.dev.popInto(t.mem, slots)).toBe(true);
    expect(t.dev.popInto(t.mem, slots)).toBe(false); // no chain slot left
    expect(t.dev.nextAvail).toBe(2);
    slots.truncate(1);
    expect([slots.length, slots.descs]).toEqual([1, 1]);
    const descs = new ChainArena(8, 16, 20);
    for (let i = 0; i < 5; i++) expect(t.dev.popInto(t.mem, descs)).toBe(true); // 20, 19, .. 16 free before each
    expect(t.dev.popInto(t.mem, descs)).toBe(false); // 15 free: a chain of this queue may need 16
    expect(t.dev.nextAvail).toBe(7);
    expect(() => t.dev.popInto(t.mem, new ChainArena(1, 8))).toThrow(/maxChainDescs 8 is below the queue size 16/);
    expect(() => new ChainArena(1, 16, 8)).toThrow(/descCapacity 8/);
  });

  it('retain keeps the marked chains, in order, with their descriptors moved to the front', () => {
    const t = ring();
    for (let i = 0; i < 4; i++) post(t, i); // chains of 1, 2, 1 (indirect) and 3 buffers
    t.drv.publish(t.mem);
    const arena = new ChainArena(4, 16);
    while (t.dev.popInto(t.mem, arena));
    const before = [0, 1, 2, 3].map((c) => chainOf(arena, c));
    expect(arena.retain(Uint8Array.of(0, 1, 0, 1))).toBe(2);
    expect(arena.length).toBe(2);
    const after = [0, 1].map((c) => chainOf(arena, c));
    expect(after).toEqual([before[1], before[3]]);
    expect(arena.descStart[0]).toBe(0);
    expect(arena.descs).toBe((before[1]!['addrs'] as number[]).length + (before[3]!['addrs'] as number[]).length);
    expect(arena.retain(Uint8Array.of(0, 0))).toBe(0);
    expect([arena.length, arena.descs]).toEqual([0, 0]);
  });
});
