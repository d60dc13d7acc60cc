import { describe, expect, it } from 'vitest';
import { VnicError } from '../errors/VnicError.ts';
import { DirtyLog } from './DirtyLog.ts';
import { dirtyLogSize } from './dirtyLogSize.ts';

const PAGE = 0x1000;

describe('DirtyLog', () => {
  it('uses the vhost layout: page n is bit n % 8 of byte n / 8, least significant bit first', () => {
    const log = new DirtyLog({ bytes: new Uint8Array(new SharedArrayBuffer(8)) });
    log.markRange(0, 1); // page 0
    log.markRange(9 * PAGE + 17, 1); // page 9
    log.markRange(63 * PAGE, PAGE); // page 63 exactly (the last byte of the range is still in it)
    expect([...log.bytes]).toEqual([0b0000_0001, 0b0000_0010, 0, 0, 0, 0, 0, 0b1000_0000]);
  });

  it('marks every page a range touches, within one byte, across bytes and across many bytes', () => {
    const log = DirtyLog.allocate(1024 * PAGE);
    log.markRange(2 * PAGE + 4095, 2); // pages 2 and 3
    expect(log.dirtyPages()).toEqual([2, 3]);
    log.clear();
    log.markRange(6 * PAGE, 4 * PAGE); // pages 6..9: the end of byte 0 and the start of byte 1
    expect(log.dirtyPages()).toEqual([6, 7, 8, 9]);
    log.clear();
    log.markRange(5 * PAGE + 1, 30 * PAGE); // pages 5..35
    expect(log.dirtyPages()).toEqual(Array.from({ length: 31 }, (_, i) => 5 + i));
  });

  it('setBits counts exactly the bits marks turn from 0 to 1, across shared copies; a taken page counts again', () => {
    const setBits = new Uint32Array(new SharedArrayBuffer(4));
    const log = new DirtyLog({ bytes: new Uint8Array(new SharedArrayBuffer(16)), setBits });
    log.markRange(6 * PAGE, 4 * PAGE); // pages 6..9: 4 new bits over two bytes
    log.markPage(7); // already set
    log.markRange(0, 24 * PAGE); // pages 0..23: 20 new (6..9 were set)
    expect(log.setBits).toBe(24);
    const copy = DirtyLog.fromShare(log.share()); // an IO thread's copy counts into the same counter
    copy.markRange(100 * PAGE, 3 * PAGE);
    copy.markPage(3);
    expect(log.setBits).toBe(27);
    expect(log.takeDirtyPages()).toHaveLength(27);
    copy.markPage(3); // taken by the reader: set again, counted again
    expect(log.setBits).toBe(28);
    expect(log.countDirty()).toBe(1);
    expect(DirtyLog.allocate(PAGE).setBits).toBe(0); // not counting
    expect(() => new DirtyLog({ bytes: new Uint8Array(8), setBits: new Uint32Array(0) })).toThrow(/setBits must be a Uint32Array/);
    const local = new DirtyLog({ bytes: new Uint8Array(new SharedArrayBuffer(8)), setBits: new Uint32Array(1) });
    expect(() => local.share()).toThrow(/setBits must start a SharedArrayBuffer/);
  });

  it('counts and ignores what lies outside the log, keeps the in-log part of a range that runs past it, never throws', () => {
    const log = new DirtyLog({ bytes: new Uint8Array(new SharedArrayBuffer(1)) }); // pages 0..7
    log.markRange(8 * PAGE, 1);
    log.markRange(-1, 10);
    log.markRange(Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
    log.markRange(0.5, 3);
    log.markRange(Number.NaN, 1);
    log.markPage(8);
    log.markPage(-1);
    expect(log.outOfRange).toBe(7);
    expect(log.countDirty()).toBe(0);
    log.markRange(7 * PAGE, 2 * PAGE);
    expect(log.dirtyPages()).toEqual([7]);
    expect(log.outOfRange).toBe(8);
    log.markRange(3 * PAGE, 0); // empty: nothing, not out of range
    expect(log.outOfRange).toBe(8);
    expect(log.countDirty()).toBe(1);
  });

  it('takeDirtyPages returns the marked pages once and clears them; takeBitmap accumulates into the caller bitmap', () => {
    const log = DirtyLog.allocate(256 * PAGE);
    for (const p of [0, 31, 32, 200]) log.markPage(p);
    expect(log.takeDirtyPages()).toEqual([0, 31, 32, 200]);
    expect(log.takeDirtyPages()).toEqual([]);
    log.markPage(3);
    const into = new Uint8Array(log.bytes.length);
    expect(log.takeBitmap(into)).toBe(1);
    log.markPage(4);
    expect(log.takeBitmap(into)).toBe(1);
    expect(into[0]).toBe(0b11000);
    expect(log.countDirty()).toBe(0);
  });

  it('harvests an unaligned bitmap byte by byte', () => {
    const sab = new SharedArrayBuffer(16);
    const log = new DirtyLog({ bytes: new Uint8Array(sab, 1, 5) });
    log.markPage(39);
    log.markPage(1);
    expect(log.takeDirtyPages()).toEqual([1, 39]);
    expect([...new Uint8Array(sab)].every((b) => b === 0)).toBe(true);
  });

  it('shares the same memory: a SharedArrayBuffer range, or a host address viewed by the receiver', () => {
    const a = DirtyLog.allocate(64 * PAGE);
    const b = DirtyLog.fromShare(structuredClone(a.share()));
    b.markPage(5);
    expect(a.isDirty(5)).toBe(true);
    const plain = new Uint8Array(8);
    const mapped = new DirtyLog({ bytes: plain, hostAddr: 0x7f00_0000_0000n });
    expect(mapped.share()).toEqual({ kind: 'host', hostAddr: 0x7f00_0000_0000n, byteLength: 8 });
    const seen: [bigint, number][] = [];
    const c = DirtyLog.fromShare(mapped.share(), (addr, len) => (seen.push([addr, len]), plain));
    c.markPage(9);
    expect(seen).toEqual([[0x7f00_0000_0000n, 8]]);
    expect(mapped.isDirty(9)).toBe(true);
    expect(() => new DirtyLog({ bytes: new Uint8Array(8) }).share()).toThrow(/neither a SharedArrayBuffer nor a mapping/);
    expect(() => DirtyLog.fromShare(mapped.share())).toThrow(/viewHost/);
  });

  it('refuses an empty bitmap and bad fd/hostAddr values with invalid-argument', () => {
    for (const init of [
      { bytes: new Uint8Array(0) },
      { bytes: new Uint8Array(8), fd: -1 },
      { bytes: new Uint8Array(8), fdOffset: -4 },
      { bytes: new Uint8Array(8), hostAddr: 0 },
    ]) {
      let err: unknown;
      try {
        new DirtyLog(init);
      } catch (e) {
        err = e;
      }
      expect(VnicError.is(err) && err.kind).toBe('invalid-argument');
    }
  });

  it('dirtyLogSize covers memory in whole u64s, as QEMU sizes the vhost log', () => {
    expect(dirtyLogSize(0)).toBe(0);
    expect(dirtyLogSize(1)).toBe(8);
    expect(dirtyLogSize(64 * PAGE)).toBe(8);
    expect(dirtyLogSize(64 * PAGE + 1)).toBe(16);
    expect(dirtyLogSize(256 * 1024 * 1024)).toBe(8192); // 256 MiB: 65536 pages
    expect(DirtyLog.allocate(64 * PAGE + 1).coveredBytes).toBe(128 * PAGE);
    expect(() => dirtyLogSize(-1)).toThrow(/memory end/);
  });
});
