import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GuestMemory } from '../memory/GuestMemory.ts';
import { DriverQueue } from '../queue/DriverQueue.ts';
import { SplitQueue } from '../queue/SplitQueue.ts';
import { DirtyLog } from './DirtyLog.ts';
import { markChainWritten } from './markChainWritten.ts';

// The oracle is a BigInt model of the vhost log: page p is dirty after markRange(gpa, len) exactly
// when [p * 4096, (p + 1) * 4096) meets [gpa, gpa + len); the log never indexes the bitmap itself.

const PAGE = 4096n;

/** Pages [gpa, gpa + len) touches inside [0, pages), and whether any of it lies outside (BigInt: no rounding). */
function model(gpa: number, len: number, pages: number): { pages: number[]; outside: boolean } {
  if (len === 0) return { pages: [], outside: false };
  if (!Number.isSafeInteger(gpa) || !Number.isSafeInteger(len) || gpa < 0 || len < 0) return { pages: [], outside: true };
  const start = BigInt(gpa);
  const end = start + BigInt(len); // exclusive
  if (end > BigInt(Number.MAX_SAFE_INTEGER)) return { pages: [], outside: true };
  const out: number[] = [];
  for (let p = start / PAGE; p * PAGE < end && p < BigInt(pages); p++) out.push(Number(p));
  return { pages: out, outside: end > BigInt(pages) * PAGE };
}

const anyNumber = fc.oneof(
  fc.integer({ min: 0, max: 80 * 4096 }),
  fc.integer({ min: -5, max: 5 }),
  fc.constantFrom(Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER - 1, 2 ** 53, 0.5, Number.NaN, Infinity, -Infinity, 4096 * 64 - 1),
  fc.double({ noNaN: false }),
);

describe('DirtyLog (property)', () => {
  it('markRange marks exactly the pages the range touches and counts every range that leaves the log', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9 }), fc.array(fc.tuple(anyNumber, anyNumber), { maxLength: 40 }), (logBytes, ranges) => {
        const log = new DirtyLog({ bytes: new Uint8Array(new SharedArrayBuffer(logBytes)) });
        const want = new Set<number>();
        let outside = 0;
        for (const [gpa, len] of ranges) {
          expect(() => log.markRange(gpa, len)).not.toThrow();
          const m = model(gpa, len, logBytes * 8);
          for (const p of m.pages) want.add(p);
          if (m.outside) outside++;
        }
        expect(log.dirtyPages()).toEqual([...want].sort((a, b) => a - b));
        expect(log.outOfRange).toBe(outside);
        expect(log.takeDirtyPages()).toEqual([...want].sort((a, b) => a - b));
        expect(log.countDirty()).toBe(0);
      }),
      { numRuns: 400 },
    );
  });

  it('a split queue with a log marks every page of guest memory its writes change (used ring, acks)', () => {
    // Memory: 64 pages at gpa 0, one region: rings from page 1 at a random 64-byte offset (so the
    // used ring often straddles a page edge), buffers from page 5 up.
    const SIZE = 64 * 4096;
    fc.assert(
      fc.property(
        fc.constantFrom(4, 8, 16, 256),
        fc.boolean(),
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 63 }),
        fc.array(
          fc.record({
            bufs: fc.array(
              fc.record({ page: fc.integer({ min: 5, max: 63 }), off: fc.integer({ min: 0, max: 4095 }), len: fc.integer({ min: 1, max: 9000 }) }),
              {
                minLength: 1,
                maxLength: 3,
              },
            ),
            write: fc.integer({ min: 0, max: 20000 }),
            op: fc.constantFrom('used', 'batch', 'enable', 'disable'),
          }),
          { minLength: 1, maxLength: 24 },
        ),
        (size, eventIdx, start, slot, steps) => {
          const bytes = new Uint8Array(SIZE);
          const mem = new GuestMemory([{ guestPhysAddr: 0, bytes }]);
          const l = DriverQueue.layout(4096 + 64 * slot, size);
          const ring = { size, descTable: l.descTable, availRing: l.availRing, usedRing: l.usedRing, eventIdx };
          const drv = new DriverQueue({ ...ring, start });
          drv.init(mem);
          const dev = new SplitQueue({ ...ring, indirectDesc: false });
          dev.setState({ nextAvail: start, nextUsed: start });
          expect(dev.validate(mem)).toBeUndefined();
          for (const s of steps) {
            if (drv.numFree < s.bufs.length) break;
            drv.add(
              mem,
              s.bufs.map((b) => ({ addr: b.page * 4096 + b.off, len: Math.min(b.len, SIZE - (b.page * 4096 + b.off)), writable: true })),
            );
          }
          drv.publish(mem);
          const before = bytes.slice();
          const log = DirtyLog.allocate(SIZE);
          dev.dirtyLog = log;
          const heads: number[] = [];
          const lens: number[] = [];
          for (const s of steps) {
            const chain = dev.pop(mem);
            if (chain !== undefined) {
              const data = new Uint8Array(Math.min(s.write, chain.writableLength)).fill(0x5a ^ (s.write & 0xff));
              const n = chain.writeFrom(mem, data);
              markChainWritten(log, chain, n);
              if (s.op === 'batch') {
                heads.push(chain.head);
                lens.push(n);
              } else dev.addUsed(mem, chain.head, n);
            }
            if (s.op === 'enable') dev.enableNotification(mem);
            if (s.op === 'disable') dev.disableNotification(mem);
          }
          dev.addUsedBatch(mem, heads, lens);
          for (let i = 0; i < SIZE; i++) {
            if (bytes[i] !== before[i] && !log.isDirty(Math.floor(i / 4096))) {
              throw new Error(`byte 0x${i.toString(16)} changed but page ${Math.floor(i / 4096)} is not marked`);
            }
          }
          expect(log.outOfRange).toBe(0);
        },
      ),
      { numRuns: 200 },
    );
  });
});
