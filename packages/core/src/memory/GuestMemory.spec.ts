import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VnicError } from '../errors/VnicError.ts';
import { GuestMemory, type GuestMemoryRegionInit } from './GuestMemory.ts';

function region(guestPhysAddr: number, size: number, hostAddr?: number | bigint): GuestMemoryRegionInit {
  return hostAddr === undefined ? { guestPhysAddr, bytes: new Uint8Array(size) } : { guestPhysAddr, bytes: new Uint8Array(size), hostAddr };
}

function rejects(regions: GuestMemoryRegionInit[], message: RegExp): void {
  let error: unknown;
  try {
    new GuestMemory(regions);
  } catch (e) {
    error = e;
  }
  expect(VnicError.is(error)).toBe(true);
  expect((error as VnicError).kind).toBe('invalid-argument');
  expect((error as VnicError).message).toMatch(message);
}

// R1 [0x1000, 0x2000) and R2 [0x2000, 0x2800) are adjacent; a hole; R3 [0x4000, 0x4100).
const R1 = 0x1000;
const R2 = 0x2000;
const R3 = 0x4000;
function threeRegions(): GuestMemory {
  return new GuestMemory([region(R3, 0x100), region(R1, 0x1000), region(R2, 0x800)]);
}

describe('GuestMemory construction', () => {
  it('sorts regions by address and sums their sizes', () => {
    const mem = threeRegions();
    expect(mem.regions.map((r) => [r.guestPhysAddr, r.size])).toEqual([
      [R1, 0x1000],
      [R2, 0x800],
      [R3, 0x100],
    ]);
    expect(mem.size).toBe(0x1900);
    expect(new GuestMemory([]).size).toBe(0);
    expect(new GuestMemory([]).regionOf(0, 0)).toBeUndefined();
  });

  it('rejects overlapping regions in any order, accepts adjacent ones', () => {
    const cases: GuestMemoryRegionInit[][] = [
      [region(0x1000, 0x100), region(0x10ff, 0x10)], // last byte shared
      [region(0x1000, 0x100), region(0x1000, 0x10)], // same base
      [region(0x1000, 0x1000), region(0x1800, 0x10)], // contained
      [region(0x1000, 0x100), region(0x3000, 0x100), region(0x0, 0x4000)], // spans the others
    ];
    for (const regions of cases) {
      rejects(regions, /overlap/);
      rejects([...regions].reverse(), /overlap/);
    }
    expect(() => new GuestMemory([region(0x1100, 0x100), region(0x1000, 0x100)])).not.toThrow();
  });

  it('rejects empty regions, whatever the order (an empty region at another base used to depend on it)', () => {
    rejects([region(0x1000, 0x100), region(0x1000, 0)], /empty/);
    rejects([region(0x1000, 0), region(0x1000, 0x100)], /empty/);
    rejects([region(0x1080, 0)], /empty/);
  });

  it('agrees with a byte-level overlap check for random regions, in both orders', () => {
    const regions = fc.array(fc.record({ base: fc.integer({ min: 0, max: 64 }), size: fc.integer({ min: 1, max: 16 }) }), { maxLength: 5 });
    fc.assert(
      fc.property(regions, (rs) => {
        const overlap = rs.some((a, i) => rs.some((b, j) => i < j && a.base < b.base + b.size && b.base < a.base + a.size));
        const inits = rs.map((r) => region(r.base, r.size));
        for (const list of [inits, [...inits].reverse()]) {
          let threw = false;
          try {
            new GuestMemory(list);
          } catch {
            threw = true;
          }
          expect(threw).toBe(overlap);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('rejects bases that are not safe non-negative integers and regions ending past 2^53', () => {
    for (const base of [-1, -0.5, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) rejects([region(base, 16)], /not a safe non-negative integer/);
    expect(() => new GuestMemory([region(Number.MAX_SAFE_INTEGER - 16, 16)])).not.toThrow();
    rejects([region(Number.MAX_SAFE_INTEGER - 16, 17)], /past 2\^53/);
  });

  it('makes a u16 view only for 2-aligned byte offsets', () => {
    const buf = new ArrayBuffer(64);
    const even = new GuestMemory([{ guestPhysAddr: 0, bytes: new Uint8Array(buf, 2, 9) }]);
    const odd = new GuestMemory([{ guestPhysAddr: 0, bytes: new Uint8Array(buf, 3, 9) }]);
    expect(even.regions[0]!.windows[0]!.u16?.length).toBe(4);
    expect(odd.regions[0]!.windows[0]!.u16).toBeUndefined();
    // The views cover exactly the region: a write through them lands at the right byte.
    odd.regions[0]!.windows[0]!.view.setUint16(7, 0xbbaa, true);
    expect([...new Uint8Array(buf, 10, 2)]).toEqual([0xaa, 0xbb]);
  });
});

describe('GuestMemory.regionOf', () => {
  // [gpa, len, expected region base or undefined]
  const table: [number, number, number | undefined][] = [
    [R1, 0x1000, R1],
    [R1, 0, R1],
    [R1 - 1, 1, undefined],
    [R1 - 1, 2, undefined],
    [0x1fff, 1, R1],
    [0x1fff, 0, R1],
    [0x1fff, 2, undefined], // R1 and R2 are adjacent, but a range must lie in one region
    [R2, 0, R2],
    [R2, 0x800, R2],
    [R2, 0x801, undefined],
    [0x27ff, 1, R2],
    [0x2800, 0, undefined], // one past the end, even with len 0
    [0x2800, 1, undefined],
    [0x3fff, 1, undefined],
    [0x3fff, 2, undefined],
    [R3, 0x100, R3],
    [R3, 0x101, undefined],
    [R3 + 0xff, 1, R3],
    [R3 + 0x100, 0, undefined],
    [0, 0, undefined],
    [R1 + 8, Number.MAX_SAFE_INTEGER, undefined],
  ];

  it('finds the region on boundaries, with len 0, whatever was looked up before', () => {
    const mem = threeRegions();
    const check = (rows: typeof table): void => {
      for (const [gpa, len, want] of rows) {
        expect(mem.regionOf(gpa, len)?.guestPhysAddr, `regionOf(0x${gpa.toString(16)}, ${len})`).toBe(want);
        expect(mem.checkRange(gpa, len)).toBe(want !== undefined);
      }
    };
    check(table);
    check([...table].reverse());
    for (const prime of [R1, R2, R3]) {
      for (const row of table) {
        mem.regionOf(prime, 1); // the last-hit cache now points at `prime`
        check([row]);
      }
    }
  });

  it('returns undefined for negative, NaN, infinite, fractional or unsafe inputs', () => {
    const mem = threeRegions();
    const bad = [-1, -0.5, 0.5, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 2 ** 53, 2 ** 64];
    for (const prime of [R1, R3]) {
      mem.regionOf(prime, 1); // exercise both the cached and the scanning path
      for (const x of bad) {
        expect(mem.regionOf(x, 1), `gpa ${x}`).toBeUndefined();
        expect(mem.regionOf(R1 + x, 1), `gpa R1 + ${x}`).toBeUndefined();
        expect(mem.regionOf(R1 + 1, x), `len ${x}`).toBeUndefined();
        expect(mem.slice(R1 + 1, x)).toBeUndefined();
      }
    }
    // -0 is just 0.
    expect(mem.regionOf(R1 - 0, -0)?.guestPhysAddr).toBe(R1);
  });
});

describe('GuestMemory access', () => {
  it('slice is zero-copy, read copies, write is all-or-nothing', () => {
    const mem = threeRegions();
    const bytes = mem.regions[0]!.windows[0]!.bytes;
    const s = mem.slice(R1 + 0x10, 4)!;
    expect(s.length).toBe(4);
    s.set([1, 2, 3, 4]);
    expect([...bytes.subarray(0x10, 0x14)]).toEqual([1, 2, 3, 4]);
    const copy = mem.read(R1 + 0x10, 4)!;
    copy[0] = 99;
    expect(bytes[0x10]).toBe(1);
    expect(mem.slice(R1 + 0x10, 0)?.length).toBe(0);

    expect(mem.write(0x1ffe, Uint8Array.of(7, 7, 7))).toBe(false); // would spill into R2
    expect(bytes[0xffe]).toBe(0);
    expect(mem.regions[1]!.windows[0]!.bytes[0]).toBe(0);
    expect(mem.write(0x1ffe, Uint8Array.of(7, 8))).toBe(true);
    expect([...bytes.subarray(0xffe)]).toEqual([7, 8]);
    expect(mem.read(0x3ffe, 4)).toBeUndefined();
    expect(mem.slice(-2, 4)).toBeUndefined();
  });

  it('hostAddress maps into the region mapping, or undefined', () => {
    const mem = new GuestMemory([region(R1, 0x1000, 0x7f00_0000_0000), region(R2, 0x800, 0x7f00_1000_0000n), region(R3, 0x100)]);
    expect(mem.hostAddress(R1, 1)).toBe(0x7f00_0000_0000);
    expect(mem.hostAddress(R1 + 0x123, 0x10)).toBe(0x7f00_0000_0123);
    expect(mem.hostAddress(R2 + 0x7ff, 1)).toBe(0x7f00_1000_07ff);
    expect(mem.hostAddress(0x1fff, 2)).toBeUndefined(); // spans two regions
    expect(mem.hostAddress(0x3000, 1)).toBeUndefined(); // hole
    expect(mem.hostAddress(R3, 1)).toBeUndefined(); // no mapping given
    expect(mem.hostAddress(Number.NaN, 1)).toBeUndefined();
  });

  it('fromLayout builds regions from views and checks their size', () => {
    const layout = {
      regions: [
        { guestPhysAddr: R2, size: 0x10, fd: 3, fdOffset: 0, hostAddr: 0x5000n },
        { guestPhysAddr: R1, size: 0x20, fd: 3, fdOffset: 0x10, hostAddr: 0x6000n },
      ],
    };
    const mem = GuestMemory.fromLayout(layout, (r) => (r.size === 0x10 ? new ArrayBuffer(0x10) : new Uint8Array(0x20)));
    expect(mem.regions.map((r) => [r.guestPhysAddr, r.size, r.hostAddr])).toEqual([
      [R1, 0x20, 0x6000],
      [R2, 0x10, 0x5000],
    ]);
    expect(mem.hostAddress(R2 + 4, 4)).toBe(0x5004);
    expect(() => GuestMemory.fromLayout(layout, () => new Uint8Array(0x11))).toThrow(/has 17 bytes, expected 32/);
  });
});
