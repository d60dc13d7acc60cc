import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GuestMemory } from './GuestMemory.ts';

// Small windows so that edges are cheap to reach: 4 KiB apart, reaching 256 bytes into the next.
const W = { stride: 4096, overlap: 256 };
const FOUR_G = 2 ** 32;

function pattern(len: number, seed: number): Uint8Array {
  return new Uint8Array(len).map((_, i) => (i * 131 + seed) & 0xff);
}

describe('GuestMemory windows', () => {
  it('cuts a region into overlapping windows that alias the same bytes', () => {
    const bytes = new Uint8Array(3 * 4096 + 100);
    const mem = new GuestMemory([{ guestPhysAddr: FOUR_G, bytes, hostAddr: 0x7000_0000 }], W);
    const ws = mem.regions[0]!.windows;
    expect(ws.map((w) => [w.guestPhysAddr - FOUR_G, w.size, w.hostAddr - 0x7000_0000])).toEqual([
      [0, 4096 + 256, 0],
      [4096, 4096 + 256, 4096],
      [8192, 4096 + 100, 8192],
    ]);
    bytes[4096 + 10] = 0xab;
    expect(ws[0]!.bytes[4096 + 10]).toBe(0xab);
    expect(ws[1]!.bytes[10]).toBe(0xab);
    expect(ws[1]!.u16!.length).toBe((4096 + 256) / 2);
  });

  it('a region that fits in stride + overlap stays one window (the small-VM hot path)', () => {
    const mem = new GuestMemory([{ guestPhysAddr: 0, bytes: new Uint8Array(4096 + 256) }], W);
    expect(mem.regions[0]!.windows).toHaveLength(1);
  });

  it('regionOf finds one window for any range of up to `overlap` bytes, none for a longer one across an edge', () => {
    const mem = new GuestMemory([{ guestPhysAddr: FOUR_G - 8192, bytes: new Uint8Array(5 * 4096) }], W);
    const base = FOUR_G - 8192;
    // 256 bytes straddling the edge at 4 GiB (window 2 starts there): window 1 holds them.
    const w = mem.regionOf(FOUR_G - 100, 256)!;
    expect(w.guestPhysAddr).toBe(base + 4096);
    expect(mem.regionOf(FOUR_G - 100, 356)!.guestPhysAddr).toBe(base + 4096);
    expect(mem.regionOf(FOUR_G - 100, 357)).toBeUndefined();
    expect(mem.slice(FOUR_G - 100, 357)).toBeUndefined();
    expect(mem.checkRange(FOUR_G - 100, 9000)).toBe(true);
    expect(mem.hostAddress(FOUR_G - 100, 9000)).toBeUndefined();
    // The last bytes of the region, and one past it.
    expect(mem.regionOf(base + 5 * 4096 - 2, 2)).toBeDefined();
    expect(mem.regionOf(base + 5 * 4096 - 2, 3)).toBeUndefined();
  });

  it('read, write and chunk cross window edges in parts; the bytes land where a flat array puts them', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 6 * 4096 }), fc.integer({ min: 0, max: 3 * 4096 }), fc.integer({ min: 0, max: 255 }), (off, len, seed) => {
        const flat = new Uint8Array(6 * 4096 + 300);
        const gpa = 0x1_2345_6000;
        const mem = new GuestMemory([{ guestPhysAddr: gpa, bytes: flat }], W);
        const data = pattern(len, seed);
        const fits = off + len <= flat.length;
        expect(mem.write(gpa + off, data)).toBe(fits);
        if (!fits) {
          expect(mem.read(gpa + off, len)).toBeUndefined();
          expect(flat.every((b) => b === 0)).toBe(true);
          return;
        }
        expect([...flat.subarray(off, off + len)]).toEqual([...data]);
        expect(mem.read(gpa + off, len)).toEqual(data);
        const c = mem.chunk(gpa + off, len)!;
        expect(c.length).toBeGreaterThan(len === 0 ? -1 : 0);
        expect(c.length).toBeLessThanOrEqual(len);
        expect([...c]).toEqual([...data.subarray(0, c.length)]);
      }),
      { numRuns: 300 },
    );
  });

  it('regions across and above 4 GiB: lookups agree with a BigInt model of the map', () => {
    const layout = fc
      .array(fc.record({ gap: fc.integer({ min: 0, max: 3 * 4096 }), size: fc.integer({ min: 1, max: 4 * 4096 }) }), { minLength: 1, maxLength: 4 })
      .map((rs) => {
        let at = FOUR_G - 6 * 4096;
        return rs.map((r) => {
          const base = at + r.gap;
          at = base + r.size;
          return { base, size: r.size };
        });
      });
    fc.assert(
      fc.property(layout, fc.integer({ min: -4096, max: 40 * 4096 }), fc.integer({ min: 0, max: 5000 }), (rs, rel, len) => {
        const mem = new GuestMemory(
          rs.map((r, i) => ({ guestPhysAddr: r.base, bytes: new Uint8Array(r.size).fill(i + 1), hostAddr: 0x10_0000_0000 + r.base })),
          W,
        );
        const gpa = FOUR_G - 6 * 4096 + rel;
        const inside = rs.findIndex(
          (r) => BigInt(gpa) >= BigInt(r.base) && BigInt(gpa) + BigInt(len) <= BigInt(r.base + r.size) && BigInt(gpa) < BigInt(r.base + r.size),
        );
        expect(mem.checkRange(gpa, len)).toBe(inside >= 0);
        expect(mem.hostAddress(gpa, len)).toBe(inside >= 0 ? 0x10_0000_0000 + gpa : undefined);
        const got = mem.read(gpa, len);
        if (inside < 0) expect(got).toBeUndefined();
        else expect(got!.every((b) => b === inside + 1)).toBe(true);
        const w = mem.regionOf(gpa, len);
        if (inside < 0) expect(w).toBeUndefined();
        else if (len <= W.overlap) expect(w).toBeDefined();
        if (w !== undefined) {
          expect(gpa - w.guestPhysAddr + len).toBeLessThanOrEqual(w.size);
          expect(w.bytes[gpa - w.guestPhysAddr]).toBe(inside + 1);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('refuses a window geometry that cannot hold u16 views or overlaps more than it strides', () => {
    const r = [{ guestPhysAddr: 0, bytes: new Uint8Array(16) }];
    for (const w of [
      { stride: 0, overlap: 0 },
      { stride: 4095, overlap: 0 },
      { stride: 4096, overlap: 3 },
      { stride: 4096, overlap: 8192 },
    ]) {
      expect(() => new GuestMemory(r, w)).toThrow(/stride/);
    }
  });
});
