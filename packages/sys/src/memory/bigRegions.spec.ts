import { DEFAULT_GUEST_MEMORY_WINDOWS } from '@vnic/core';
import { describe, expect, it } from 'vitest';
import { guestMemoryFromLayout } from './guestMemoryFromLayout.ts';
import { mapGuestMemory } from './mapGuestMemory.ts';
import { MemfdGuestMemory } from './MemfdGuestMemory.ts';

const GiB = 2 ** 30;
const { stride } = DEFAULT_GUEST_MEMORY_WINDOWS;

/** Byte equality without vitest's per-element deep compare (slow on MiB arrays). */
function same(a: Uint8Array | undefined, b: Uint8Array): boolean {
  return a !== undefined && Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));
}

function pattern(len: number, seed: number): Uint8Array {
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) out[i] = (i * 29 + seed) & 0xff;
  return out;
}

/** Pages of RAM this process has in shared memory (memfd pages touched), from /proc/self/statm. */
async function sharedPages(): Promise<number> {
  const { readFileSync } = await import('node:fs');
  return Number(readFileSync('/proc/self/statm', 'utf8').split(' ')[2]);
}

// Sparse memfds (ftruncate only): no RAM is used except the pages the test touches.
describe.each([
  ['exactly 4 GiB', 0, 4 * GiB],
  ['6 GiB above 4 GiB', 4 * GiB, 6 * GiB],
  ['64 GiB', 0x10_0000_0000, 64 * GiB],
])('a sparse memfd region of %s', (_name, gpa, size) => {
  it('is viewed in windows; accesses at the start, across every window edge and at the end work', async () => {
    const before = await sharedPages();
    const mem = MemfdGuestMemory.create({ regions: [{ guestPhysAddr: gpa, size }], name: 'vnic-big-test' });
    try {
      const m = mem.memory;
      const windows = m.regions[0]!.windows;
      expect(windows.length).toBe(Math.ceil((size - DEFAULT_GUEST_MEMORY_WINDOWS.overlap) / stride));
      for (const w of windows) expect(w.u16!.length).toBe(w.size / 2);
      const spots = [gpa, gpa + size - 4096, ...windows.slice(1).map((w) => w.guestPhysAddr - 2048)];
      for (const [i, at] of spots.entries()) {
        const data = pattern(4096, i);
        expect(m.write(at, data)).toBe(true);
        expect(same(m.read(at, 4096), data)).toBe(true);
        // A 16-bit ring index at the spot, through the window regionOf picks.
        const r = m.regionOf(at + 2, 2)!;
        Atomics.store(r.u16!, (at + 2 - r.guestPhysAddr) / 2, 0xbeef);
        expect(m.read(at + 2, 2)).toEqual(Uint8Array.of(0xef, 0xbe));
      }
      expect(m.checkRange(gpa + size - 1, 2)).toBe(false);
      // A copy longer than a window's overlap across an edge goes in parts and round-trips.
      if (windows.length > 1) {
        const edge = windows[1]!.guestPhysAddr;
        const long = pattern(3 << 20, 7);
        expect(m.slice(edge - (1 << 20), long.length)).toBeUndefined();
        expect(m.write(edge - (1 << 20), long)).toBe(true);
        expect(same(m.read(edge - (1 << 20), long.length), long)).toBe(true);
        // The same bytes through a second mapping of the fd and through views of the layout.
        const mapped = mapGuestMemory(mem.layout);
        try {
          expect(same(mapped.memory.read(edge - (1 << 20), long.length), long)).toBe(true);
        } finally {
          mapped.close();
        }
        expect(same(guestMemoryFromLayout(mem.layout).read(edge - (1 << 20), long.length), long)).toBe(true);
      }
      // Sparse: only the touched pages are in RAM (well under 64 MiB for any size).
      expect((await sharedPages()) - before).toBeLessThan(16384);
    } finally {
      mem.close();
    }
  });
});
