import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VIRTQ_DESC_F_INDIRECT, VIRTQ_DESC_F_NEXT, VIRTQ_DESC_F_WRITE } from '../defs/virtio.ts';
import { GuestMemory } from '../memory/GuestMemory.ts';
import type { GuestMemoryWindows } from '../memory/GuestMemoryWindows.ts';
import { ChainError } from './ChainError.ts';
import type { DescriptorChain } from './DescriptorChain.ts';
import { DriverQueue } from './DriverQueue.ts';
import { SplitQueue } from './SplitQueue.ts';

// Everything here is checked against an independent model of the memory map (`World`): a list of
// regions carved out of one backing buffer with canary guard bytes around each, read and written
// byte by byte with BigInt bounds checks. GuestMemory.regionOf is never used as the oracle.

const NEXT = VIRTQ_DESC_F_NEXT;
const WRITE = VIRTQ_DESC_F_WRITE;
const INDIRECT = VIRTQ_DESC_F_INDIRECT;
const CANARY = (i: number): number => (0xa5 ^ (i * 31)) & 0xff;

interface RegionSpec {
  readonly gpa: number;
  readonly size: number;
  /** Offset of the region's first byte in the backing buffer. */
  readonly back: number;
}

class World {
  readonly backing: Uint8Array;
  readonly mem: GuestMemory;

  constructor(
    readonly regions: readonly RegionSpec[],
    backingSize: number,
    seed: number,
    windows?: GuestMemoryWindows,
  ) {
    this.backing = new Uint8Array(backingSize);
    for (let i = 0; i < backingSize; i++) this.backing[i] = CANARY(i);
    let x = seed | 1;
    for (const r of regions) {
      for (let i = 0; i < r.size; i++) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        this.backing[r.back + i] = x & 0xff;
      }
    }
    this.mem = new GuestMemory(
      regions.map((r) => ({ guestPhysAddr: r.gpa, bytes: this.backing.subarray(r.back, r.back + r.size) })),
      windows,
    );
  }

  /** Backing index of guest byte `gpa`, or undefined outside every region (BigInt: no rounding). */
  index(gpa: bigint): number | undefined {
    for (const r of this.regions) {
      if (gpa >= BigInt(r.gpa) && gpa < BigInt(r.gpa + r.size)) return r.back + Number(gpa - BigInt(r.gpa));
    }
    return undefined;
  }

  /** The region that holds all of [addr, addr + len) and `addr` itself (len 0 included). */
  holds(addr: number, len: number): RegionSpec | undefined {
    const a = BigInt(addr);
    const end = a + BigInt(len);
    return this.regions.find((r) => a >= BigInt(r.gpa) && a < BigInt(r.gpa + r.size) && end <= BigInt(r.gpa + r.size));
  }

  poke(gpa: number, bytes: readonly number[]): void {
    bytes.forEach((b, i) => {
      const at = this.index(BigInt(gpa) + BigInt(i));
      if (at !== undefined) this.backing[at] = b;
    });
  }

  peek(gpa: number, len: number): number[] | undefined {
    const out: number[] = [];
    for (let i = 0; i < len; i++) {
      const at = this.index(BigInt(gpa) + BigInt(i));
      if (at === undefined) return undefined;
      out.push(this.backing[at]!);
    }
    return out;
  }

  peekLe(gpa: number, len: number): number | undefined {
    const b = this.peek(gpa, len);
    return b === undefined ? undefined : b.reduceRight((acc, v) => acc * 256 + v, 0);
  }

  /** True when byte `i` of the backing buffer lies inside a region. */
  inRegion(i: number): boolean {
    return this.regions.some((r) => i >= r.back && i < r.back + r.size);
  }

  /** Guest address of backing byte `i` (which must lie inside a region). */
  gpaOf(i: number): number {
    const r = this.regions.find((q) => i >= q.back && i < q.back + q.size)!;
    return r.gpa + (i - r.back);
  }
}

function le(value: bigint, n: number): number[] {
  return Array.from({ length: n }, (_, i) => Number((value >> BigInt(8 * i)) & 0xffn));
}

// ---- arbitraries: abstract choices, resolved against the generated memory map at run time ----

const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
/** Either a raw u16 or `{ mod }`, resolved to `mod % (limit + 1)` (so mostly in range, sometimes one past). */
const indexArb = fc.oneof({ weight: 9, arbitrary: fc.record({ mod: fc.nat() }) }, { weight: 1, arbitrary: u16 });
/** Same, with a raw u16 only rarely. */
const rareIndexArb = fc.oneof({ weight: 40, arbitrary: fc.record({ mod: fc.nat() }) }, { weight: 1, arbitrary: u16 });
/** An avail ring entry: a valid head, rarely exactly `size` or any u16 (both stop the queue). */
const headArb = fc.oneof(
  { weight: 80, arbitrary: fc.record({ mod: fc.nat() }) },
  { weight: 1, arbitrary: fc.constant('size' as const) },
  { weight: 1, arbitrary: u16 },
);
type IndexChoice = { mod: number } | number;

type AddrChoice =
  | { kind: 'in'; r: number; off: number; len: number | 'rest' | 'rest+1' }
  | { kind: 'edge'; r: number; which: number; len: number }
  | { kind: 'table'; t: number; n: number; skew: number; fit?: boolean; lenSkew?: number }
  | { kind: 'raw'; addr: bigint; len: number };

/** A length: any, or exactly to the end of the region, or one byte more. */
const lenArb = fc.oneof(
  { weight: 6, arbitrary: fc.nat() },
  { weight: 1, arbitrary: fc.constant('rest' as const) },
  { weight: 1, arbitrary: fc.constant('rest+1' as const) },
);
const addrArb: fc.Arbitrary<AddrChoice> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('in' as const), r: fc.nat(2), off: fc.nat(), len: lenArb }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('edge' as const), r: fc.nat(2), which: fc.nat(4), len: fc.nat(64) }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('table' as const),
      t: fc.nat(2),
      n: fc.nat(40),
      skew: fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: -15, max: 15 }) }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('raw' as const),
      addr: fc.oneof(
        fc.bigInt(0n, 2n ** 64n - 1n),
        fc.constantFrom(2n ** 53n - 1n, 2n ** 53n, 2n ** 64n - 1n, 0xffff_ffff_ffff_f000n),
        fc.bigInt(2n ** 53n - 2n ** 33n, 2n ** 53n + 2n ** 33n),
      ),
      len: fc.oneof(u32, fc.constantFrom(0, 1, 0xffff_ffff)),
    }),
  },
);
const flagsArb = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(0, NEXT, WRITE, WRITE | NEXT, INDIRECT, INDIRECT | NEXT, INDIRECT | WRITE) },
  { weight: 1, arbitrary: u16 },
);
/** Anything at all. */
const chaosDescArb = fc.record({ addr: addrArb, flags: flagsArb, next: indexArb });
/** A buffer inside a region linked to the following slot: such runs make valid chains. */
const linkedDescArb = fc.record({
  addr: fc.record({ kind: fc.constant('in' as const), r: fc.nat(2), off: fc.nat(), len: lenArb }),
  flags: fc.constantFrom(0, NEXT, NEXT, WRITE, WRITE | NEXT),
  next: fc.constant('link' as const),
});
/** A plausible indirect descriptor pointing at one of the tables. */
const indirectDescArb = fc.record({
  addr: fc.record({
    kind: fc.constant('table' as const),
    t: fc.nat(2),
    n: fc.integer({ min: 1, max: 4 }),
    skew: fc.constant(0),
    fit: fc.boolean(),
    lenSkew: fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 15 }) }),
  }),
  flags: fc.constant(INDIRECT),
  next: fc.constant(0),
});
const descArb: fc.Arbitrary<DescChoice> = fc.oneof(
  { weight: 4, arbitrary: chaosDescArb },
  { weight: 5, arbitrary: linkedDescArb },
  { weight: 1, arbitrary: indirectDescArb },
);
type DescChoice = { addr: AddrChoice; flags: number; next: IndexChoice | 'link' };

const memoryArb = fc.record({
  sizes: fc.array(fc.integer({ min: 64, max: 8192 }), { minLength: 1, maxLength: 3 }),
  gaps: fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 4096 })), { minLength: 3, maxLength: 3 }),
  base: fc.oneof(
    { weight: 4, arbitrary: fc.integer({ min: 0, max: 0x10_0000 }) },
    { weight: 1, arbitrary: fc.constant(-1) },
    // Across 4 GiB (regions start below it and run over it, or lie on either side) and above it.
    { weight: 2, arbitrary: fc.integer({ min: 2 ** 32 - 0x8000, max: 2 ** 32 + 0x100 }) },
    { weight: 1, arbitrary: fc.integer({ min: 2 ** 32, max: 2 ** 40 }) },
  ),
  // Small windows (GuestMemory cuts regions into views): rings, descriptors and copies across window edges.
  windows: fc.constantFrom(undefined, { stride: 2048, overlap: 1024 }, { stride: 1024, overlap: 1024 }, { stride: 4096, overlap: 1024 }),
  highSlack: fc.nat(0x1000),
  guards: fc.array(fc.integer({ min: 1, max: 33 }), { minLength: 4, maxLength: 4 }),
  seed: fc.integer(),
});

const roundArb = fc.record({
  heads: fc.array(headArb, { minLength: 32, maxLength: 32 }),
  count: rareIndexArb,
  availFlags: u16,
  usedEvent: u16,
  notify: fc.nat(3),
  usedLen: u32,
});

const queueArb = fc.record({
  size: fc.constantFrom(1, 2, 4, 8, 16, 32),
  randomRings: fc.oneof({ weight: 9, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  ringOffsets: fc.tuple(fc.nat(), fc.nat(), fc.nat(), fc.nat()),
  eventIdx: fc.boolean(),
  indirectDesc: fc.boolean(),
  validateFirst: fc.boolean(),
  writeData: fc.boolean(),
  startAvail: u16,
  startUsed: u16,
  usedFlags: u16,
  availEvent: u16,
  descs: fc.array(descArb, { minLength: 32, maxLength: 32 }),
  tables: fc.array(
    fc.record({
      r: fc.nat(2),
      off: fc.oneof({ weight: 5, arbitrary: fc.nat() }, { weight: 1, arbitrary: fc.record({ fromEnd: fc.integer({ min: 1, max: 8 }) }) }),
      descs: fc.oneof(fc.array(descArb, { maxLength: 40 }), fc.array(fc.oneof(linkedDescArb, linkedDescArb, chaosDescArb), { maxLength: 8 })),
    }),
    { minLength: 3, maxLength: 3 },
  ),
  rounds: fc.array(roundArb, { minLength: 1, maxLength: 2 }),
});

type MemoryChoice = typeof memoryArb extends fc.Arbitrary<infer T> ? T : never;
type QueueChoice = typeof queueArb extends fc.Arbitrary<infer T> ? T : never;

function buildWorld(m: MemoryChoice): World {
  const span = m.sizes.reduce((acc, s, i) => acc + s + (i < m.sizes.length - 1 ? m.gaps[i]! : 0), 0);
  let gpa = m.base >= 0 ? m.base : Number.MAX_SAFE_INTEGER - span - m.highSlack;
  let back = m.guards[0]!;
  const regions: RegionSpec[] = [];
  m.sizes.forEach((size, i) => {
    regions.push({ gpa, size, back });
    gpa += size + (m.gaps[i] ?? 0);
    back += size + m.guards[i + 1]!;
  });
  return new World(regions, back, m.seed, m.windows);
}

function resolveHead(c: IndexChoice | 'size', size: number): number {
  return c === 'size' ? size : resolveIndex(c, size - 1);
}

function resolveIndex(c: IndexChoice, limit: number): number {
  return typeof c === 'number' ? c : c.mod % (limit + 1);
}

interface Table {
  readonly gpa: number;
  readonly count: number;
}

function resolveAddr(w: World, c: AddrChoice, tables: readonly Table[]): { addr: bigint; len: number } {
  const regionOf = (r: number): RegionSpec => w.regions[r % w.regions.length]!;
  switch (c.kind) {
    case 'in': {
      const r = regionOf(c.r);
      const off = c.off % (r.size + 1);
      const rest = r.size - off;
      return { addr: BigInt(r.gpa + off), len: c.len === 'rest' ? rest : c.len === 'rest+1' ? rest + 1 : c.len % (rest + 3) };
    }
    case 'edge': {
      const r = regionOf(c.r);
      const end = r.gpa + r.size;
      const at = [r.gpa - 1, end - c.len, end, end - 1, r.gpa][c.which]!;
      return { addr: BigInt(Math.max(0, at)), len: c.len };
    }
    case 'table': {
      const t = tables[c.t % tables.length]!;
      return { addr: BigInt(Math.max(0, t.gpa + c.skew)), len: 16 * (c.fit === true && t.count > 0 ? t.count : c.n) + (c.lenSkew ?? 0) };
    }
    case 'raw':
      return { addr: c.addr, len: c.len };
  }
}

/** Writes choice `d` as entry `index` of the table at `table` holding `count` entries. */
function writeDesc(w: World, table: number, index: number, d: DescChoice, tables: readonly Table[], count: number): void {
  const { addr, len } = resolveAddr(w, d.addr, tables);
  let flags = d.flags;
  let next: number;
  if (d.next === 'link') {
    // Linked runs end at the end of their table.
    next = index + 1 < count ? index + 1 : 0;
    if (index + 1 === count) flags &= ~NEXT;
  } else {
    next = resolveIndex(d.next, count);
  }
  w.poke(table + 16 * index, [...le(addr, 8), ...le(BigInt(len), 4), ...le(BigInt(flags), 2), ...le(BigInt(next), 2)]);
}

interface Rings {
  readonly descTable: number;
  readonly availRing: number;
  readonly usedRing: number;
}

function placeRings(w: World, q: QueueChoice): Rings {
  const [o0, o1, o2, o3] = q.ringOffsets;
  if (q.randomRings) {
    // Anywhere in or near a region, aligned or not.
    const at = (o: number): number => {
      const r = w.regions[o % w.regions.length]!;
      return Math.max(0, r.gpa - 64 + (o % (r.size + 128)));
    };
    return { descTable: at(o0), availRing: at(o1), usedRing: at(o2 ^ o3) };
  }
  const r = w.regions.reduce((a, b) => (b.size > a.size ? b : a));
  const bytes = DriverQueue.layout(r.gpa, q.size).bytes + 16;
  const l = DriverQueue.layout(r.gpa + (o0 % Math.max(1, r.size - bytes)), q.size);
  return { descTable: l.descTable, availRing: l.availRing, usedRing: l.usedRing };
}

/** What the generated scenarios reached, so the spec fails if the generators stop reaching it. */
interface Coverage {
  chains: number;
  multiDescriptorChains: number;
  indirectChains: number;
  modelAgreed: number;
  writtenBytes: number;
  malformed: number;
  readonly errors: Set<string>;
  readonly broken: Set<string>;
}

/** Runs one generated scenario; throws (failing the property) on any broken invariant. */
function runScenario(m: MemoryChoice, q: QueueChoice, cov: Coverage): void {
  const w = buildWorld(m);
  const { size } = q;
  const rings = placeRings(w, q);
  const tables = q.tables.map((t): Table => {
    const r = w.regions[t.r % w.regions.length]!;
    // Anywhere in the region, or so that its last entries run past the region's end.
    const gpa = typeof t.off === 'number' ? r.gpa + (t.off % r.size) : Math.max(r.gpa, r.gpa + r.size - 16 * t.off.fromEnd);
    return { gpa, count: t.descs.length };
  });
  q.tables.forEach((t, i) => t.descs.forEach((d, j) => writeDesc(w, tables[i]!.gpa, j, d, tables, t.descs.length)));
  for (let i = 0; i < size; i++) writeDesc(w, rings.descTable, i, q.descs[i]!, tables, size);
  w.poke(rings.usedRing, le(BigInt(q.usedFlags), 2));
  w.poke(rings.usedRing + 4 + 8 * size, le(BigInt(q.availEvent), 2));

  const dev = new SplitQueue({ size, ...rings, eventIdx: q.eventIdx, indirectDesc: q.indirectDesc });
  dev.setState({ nextAvail: q.startAvail, nextUsed: q.startUsed });
  if (q.validateFirst || !q.randomRings) {
    const reason = dev.validate(w.mem);
    if (!q.randomRings) {
      const fits =
        w.holds(rings.descTable, 16 * size) !== undefined &&
        w.holds(rings.availRing, 6 + 2 * size) !== undefined &&
        w.holds(rings.usedRing, 6 + 8 * size) !== undefined;
      expect(reason).toBe(fits ? undefined : ChainError.RING_OUT_OF_MEMORY);
    }
  }
  // Rings placed by DriverQueue.layout never overlap, so what the device read from the avail ring
  // is still there afterwards, and (without data writes) the used ring can be predicted exactly.
  const exact = !q.randomRings;

  const inUsedRing = (gpa: number): boolean => gpa >= rings.usedRing && gpa < rings.usedRing + 6 + 8 * size;
  let availIdx = q.startAvail;
  let good = 0;

  for (const round of q.rounds) {
    const count = resolveIndex(round.count, size);
    for (let i = 0; i < Math.min(count, size); i++) {
      w.poke(rings.availRing + 4 + 2 * ((availIdx + i) % size), le(BigInt(resolveHead(round.heads[i]!, size)), 2));
    }
    availIdx = (availIdx + count) & 0xffff;
    w.poke(rings.availRing, le(BigInt(round.availFlags), 2));
    w.poke(rings.availRing + 2, le(BigInt(availIdx), 2));
    w.poke(rings.availRing + 4 + 2 * size, le(BigInt(round.usedEvent), 2));

    const before = w.backing.slice();
    const usedAtStart = dev.nextUsed;
    const malformedAtStart = dev.malformed;
    const expectedUsed: { id: number; len: number }[] = [];
    let rejected = 0;
    const writable: [number, number][] = [];
    let terminated = false;

    for (let pops = 0; pops <= size + 1; pops++) {
      const from = dev.nextAvail;
      const chain = dev.pop(w.mem);
      if (dev.lastError !== undefined) cov.errors.add(dev.lastError);
      const consumed = (dev.nextAvail - from) & 0xffff;
      const heads = exact ? Array.from({ length: consumed }, (_, i) => w.peekLe(rings.availRing + 4 + 2 * ((from + i) % size), 2)!) : [];
      if (exact && consumed > 0) {
        // Only the last entry a pop consumes may be >= size, and then the queue stops on it.
        expect(heads.slice(0, -1).every((h) => h < size)).toBe(true);
        if (heads[consumed - 1]! >= size) {
          expect(chain).toBeUndefined();
          expect(dev.brokenReason).toBe(ChainError.INVALID_HEAD);
        }
      }
      if (exact) {
        // The model agrees: every head skipped was malformed (unless a later write of this same pop
        // landed on what the model reads), and the chain returned is the one the model builds.
        const usedRing: [number, number] = [rings.usedRing, rings.usedRing + 6 + 8 * size];
        const modelQ = { size, descTable: rings.descTable, indirectDesc: q.indirectDesc };
        heads.forEach((h, i) => {
          const { result, touched } = modelChain(w, modelQ, h, usedRing);
          if (chain !== undefined && i === consumed - 1) {
            expect(result).toEqual({ ok: true, descriptors: chain.descriptors });
            cov.modelAgreed++;
          } else if (!touched) {
            expect(result.ok, `head ${h} was rejected by the device (${dev.lastError})`).toBe(false);
            cov.modelAgreed++;
          }
        });
      }
      if (chain === undefined) {
        // Progress: an empty pop means nothing is pending or the queue stopped.
        expect(dev.needsReset || dev.pending(w.mem) === 0).toBe(true);
        if (exact) {
          // A head >= size stops the queue without a used element; every other skipped chain has one.
          const stoppedOnHead = dev.brokenReason === ChainError.INVALID_HEAD && consumed > 0 && heads[consumed - 1]! >= size;
          const returned = stoppedOnHead ? heads.slice(0, -1) : heads;
          for (const h of returned) expectedUsed.push({ id: h, len: 0 });
          rejected += consumed;
        }
        terminated = true;
        break;
      }
      good++;
      cov.chains++;
      if (chain.descriptors.length > 1) cov.multiDescriptorChains++;
      if (exact && (w.peekLe(rings.descTable + 16 * chain.head + 12, 2)! & INDIRECT) !== 0) cov.indirectChains++;
      expect(consumed).toBeGreaterThanOrEqual(1);
      if (exact) {
        expect(chain.head).toBe(heads[consumed - 1]);
        for (const h of heads.slice(0, -1)) expectedUsed.push({ id: h, len: 0 });
        rejected += consumed - 1;
      }
      checkChain(w, chain, size);
      if (q.writeData) {
        for (const d of chain.descriptors) if (d.writable) writable.push([d.addr, d.len]);
        const src = new Uint8Array(Math.min(chain.writableLength, 4096)).fill(0x5a);
        expect(chain.writeFrom(w.mem, src)).toBe(src.length);
        cov.writtenBytes += src.length;
      }
      const len = round.usedLen % (chain.writableLength + 1);
      dev.addUsed(w.mem, chain.head, len);
      expectedUsed.push({ id: chain.head, len });
    }
    expect(terminated, 'pop() drained the ring within size + 1 calls').toBe(true);

    switch (round.notify) {
      case 0:
        dev.needsNotification(w.mem);
        break;
      case 1:
        dev.enableNotification(w.mem);
        break;
      case 2:
        dev.disableNotification(w.mem);
        break;
      default:
        dev.needsNotification(w.mem);
        dev.enableNotification(w.mem);
    }

    // Accounting: every avail entry consumed is either a popped chain or a counted malformed one.
    expect((dev.nextAvail - q.startAvail) & 0xffff).toBe(good + dev.malformed);
    // The device wrote only to the used ring and to the writable buffers it was given.
    for (let i = 0; i < w.backing.length; i++) {
      if (w.backing[i] === before[i]) continue;
      if (!w.inRegion(i)) throw new Error(`byte ${i} of the backing buffer, outside every region, was written`);
      const gpa = w.gpaOf(i);
      if (!inUsedRing(gpa) && !writable.some(([a, l]) => gpa >= a && gpa < a + l)) {
        throw new Error(`guest byte 0x${gpa.toString(16)} was written: neither the used ring nor a writable buffer`);
      }
    }
    if (exact) expect(dev.malformed - malformedAtStart).toBe(rejected);
    // Without data writes (which may alias the rings), the used ring holds exactly what we expect.
    if (exact && !q.writeData) {
      const n = (dev.nextUsed - usedAtStart) & 0xffff;
      expect(n).toBe(expectedUsed.length);
      for (let i = 0; i < n; i++) {
        const slot = rings.usedRing + 4 + 8 * ((usedAtStart + i) % size);
        expect({ id: w.peekLe(slot, 4), len: w.peekLe(slot + 4, 4) }).toEqual(expectedUsed[i]);
      }
      if (n > 0) expect(w.peekLe(rings.usedRing + 2, 2)).toBe(dev.nextUsed);
    }
  }

  cov.malformed += dev.malformed;
  if (dev.brokenReason !== undefined) cov.broken.add(dev.brokenReason);
  // No byte outside the regions changed, ever.
  for (let i = 0; i < w.backing.length; i++) {
    if (!w.inRegion(i) && w.backing[i] !== CANARY(i)) throw new Error(`guard byte ${i} was overwritten`);
  }
}

type ModelResult = { readonly ok: true; readonly descriptors: { addr: number; len: number; writable: boolean }[] } | { readonly ok: false };
const REJECTED: ModelResult = { ok: false };

/**
 * Reference model of virtio 1.2 §2.7.5 chain validity with this library's documented limits
 * (ChainError): every descriptor and buffer inside one region, u64 addresses below 2^53, at most
 * `size` descriptors in the table walk and in an indirect table, indirect tables only with the
 * feature, not nested, without NEXT, of a non-zero multiple of 16 bytes; no readable buffer after
 * a writable one. Reads guest memory through the `World` model. `touched` reports whether any byte
 * it read lies in [avoid[0], avoid[1]).
 */
function modelChain(
  w: World,
  q: { size: number; descTable: number; indirectDesc: boolean },
  head: number,
  avoid: readonly [number, number],
): { result: ModelResult; touched: boolean } {
  let touched = false;
  const read = (gpa: bigint, len: number): number[] | undefined => {
    if (gpa < BigInt(avoid[1]) && gpa + BigInt(len) > BigInt(avoid[0])) touched = true;
    const n = Number(gpa);
    return Number.isSafeInteger(n) && w.holds(n, len) !== undefined ? w.peek(n, len) : undefined;
  };
  if (head >= q.size) return { result: REJECTED, touched };
  const out: { addr: number; len: number; writable: boolean }[] = [];
  let table = BigInt(q.descTable);
  let entries = q.size;
  let budget = q.size;
  let index = head;
  let indirect = false;
  let writable = false;
  for (;;) {
    if (budget === 0) return { result: REJECTED, touched };
    budget--;
    const b = read(table + 16n * BigInt(index), 16);
    if (b === undefined) return { result: REJECTED, touched };
    const u = (from: number, n: number): bigint => b.slice(from, from + n).reduceRight((acc, v) => acc * 256n + BigInt(v), 0n);
    const addr = u(0, 8);
    const len = Number(u(8, 4));
    const flags = Number(u(12, 2));
    const next = Number(u(14, 2));
    if (addr >= 2n ** 53n) return { result: REJECTED, touched };
    if ((flags & INDIRECT) !== 0) {
      if (!q.indirectDesc || indirect || (flags & NEXT) !== 0 || len === 0 || len % 16 !== 0 || len / 16 > q.size) return { result: REJECTED, touched };
      if (w.holds(Number(addr), len) === undefined) return { result: REJECTED, touched };
      table = addr;
      entries = len / 16;
      budget = entries;
      index = 0;
      indirect = true;
      continue;
    }
    if (w.holds(Number(addr), len) === undefined) return { result: REJECTED, touched };
    const isWritable = (flags & WRITE) !== 0;
    if (!isWritable && writable) return { result: REJECTED, touched };
    writable ||= isWritable;
    out.push({ addr: Number(addr), len, writable: isWritable });
    if ((flags & NEXT) === 0) return { result: { ok: true, descriptors: out }, touched };
    if (next >= entries) return { result: REJECTED, touched };
    index = next;
  }
}

/** Every descriptor lies inside one region (independent BigInt check) and the chain is well ordered. */
function checkChain(w: World, chain: DescriptorChain, size: number): void {
  expect(chain.head).toBeLessThan(size);
  expect(chain.descriptors.length).toBeGreaterThan(0);
  expect(chain.descriptors.length).toBeLessThanOrEqual(2 * size);
  let seenWritable = false;
  const readable: Uint8Array[] = [];
  for (const d of chain.descriptors) {
    expect(Number.isSafeInteger(d.addr) && Number.isSafeInteger(d.len) && d.len <= 0xffff_ffff).toBe(true);
    const r = w.holds(d.addr, d.len);
    if (r === undefined) throw new Error(`descriptor 0x${d.addr.toString(16)}+${d.len} is outside guest memory`);
    if (d.writable) seenWritable = true;
    else {
      expect(seenWritable, 'readable after writable').toBe(false);
      readable.push(w.backing.subarray(r.back + (d.addr - r.gpa), r.back + (d.addr - r.gpa) + d.len));
    }
  }
  expect(Buffer.compare(chain.readAll(w.mem), Buffer.concat(readable))).toBe(0);
}

describe('SplitQueue under random guest input (fast-check)', () => {
  it('never throws, stays inside guest memory, and always makes progress', () => {
    const cov: Coverage = {
      chains: 0,
      multiDescriptorChains: 0,
      indirectChains: 0,
      modelAgreed: 0,
      writtenBytes: 0,
      malformed: 0,
      errors: new Set(),
      broken: new Set(),
    };
    fc.assert(
      fc.property(memoryArb, queueArb, (m, q) => {
        runScenario(m, q, cov);
      }),
      { numRuns: 300 },
    );
    // The generators must keep reaching the interesting paths (thresholds well below what 300 runs
    // reach: about 550 chains, 130 multi-descriptor, 20 indirect, 1400 model comparisons, 10 of 11
    // chain errors, all four ring errors).
    expect(cov.chains).toBeGreaterThan(250);
    expect(cov.modelAgreed).toBeGreaterThan(500);
    expect(cov.multiDescriptorChains).toBeGreaterThan(50);
    expect(cov.indirectChains).toBeGreaterThan(2);
    expect(cov.writtenBytes).toBeGreaterThan(0);
    expect(cov.malformed).toBeGreaterThan(250);
    expect(cov.errors.size).toBeGreaterThanOrEqual(8);
    expect([...cov.broken].sort()).toEqual(
      [ChainError.INVALID_AVAIL_IDX, ChainError.INVALID_HEAD, ChainError.RING_OUT_OF_MEMORY, ChainError.RING_MISALIGNED].sort(),
    );
  });
});
