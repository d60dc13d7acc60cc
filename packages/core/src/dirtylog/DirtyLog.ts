import { VnicError } from '../errors/VnicError.ts';
import { DIRTY_LOG_PAGE_SIZE } from './DIRTY_LOG_PAGE_SIZE.ts';
import type { DirtyLogShare } from './DirtyLogShare.ts';
import { dirtyLogSize } from './dirtyLogSize.ts';

/** What `new DirtyLog()` takes: the bitmap memory the VMM provides, and how others reach it. */
export interface DirtyLogInit {
  /**
   * The bitmap: a view over memory the VMM owns (a SharedArrayBuffer, or a memfd mapping viewed
   * zero-copy), so IO threads, the kernel and a vhost-user backend can all write the same bits.
   */
  readonly bytes: Uint8Array;
  /** Address of `bytes[0]` in this process (a mapping): VHOST_SET_LOG_BASE, IO threads in workers. */
  readonly hostAddr?: number | bigint;
  /** A memfd holding the bitmap (vhost-user SET_LOG_BASE with PROTOCOL_F_LOG_SHMFD); owned by the VMM. */
  readonly fd?: number;
  /** Offset of `bytes[0]` in `fd` (default 0). */
  readonly fdOffset?: number;
  /**
   * A shared u32 (element 0) counting every bit a mark turned from 0 to 1 (`setBits`): the exact
   * number of page marks that reached the reader (only the device sets bits, the reader clears
   * them as it takes them). Shared with every copy made by share()/fromShare(). None: not counted.
   */
  readonly setBits?: Uint32Array;
}

/**
 * A dirty-page log in the vhost layout (vhost-user spec, "Migration"; linux drivers/vhost/vhost.c
 * log_write): bit `n % 8` of byte `n / 8` (least significant bit first) stands for the 4 KiB
 * guest-physical page n, i.e. addresses [n * 0x1000, (n + 1) * 0x1000). Byte k, bit b is page
 * 8k + b, so a little-endian u64 or u32 read of the log gives pages in bit order (as QEMU and the
 * kernel read it).
 *
 * The device side sets bits with Atomics.or (safe against IO threads of other workers, the kernel
 * vhost worker and another process writing the same memory); the VMM side takes them with
 * `takeDirtyPages` / `takeBitmap` (Atomics.exchange: a bit set meanwhile is never lost). Nothing
 * a guest supplies makes `markRange` throw: an address outside the log (or not a safe integer) is
 * counted in `outOfRange` and its in-log part, if any, still marked.
 */
export class DirtyLog {
  /** Bytes of guest memory per bit (VHOST_LOG_PAGE, 4 KiB). */
  static readonly PAGE_SIZE = DIRTY_LOG_PAGE_SIZE;

  /** The bitmap memory (not a copy). */
  readonly bytes: Uint8Array;
  /** Pages the log covers: 8 * bytes.length (guest-physical addresses below `pages * 4096`). */
  readonly pages: number;
  /** Address of `bytes[0]` in this process, when the VMM gave one. */
  readonly hostAddr: bigint | undefined;
  /** The memfd holding the bitmap, when the VMM gave one (never closed here). */
  readonly fd: number | undefined;
  /** Offset of `bytes[0]` in `fd`. */
  readonly fdOffset: number;
  /** Marks (markPage/markRange calls) on this object that fell, wholly or partly, outside the log. */
  outOfRange = 0;
  /** The shared 0-to-1 bit counter (DirtyLogInit.setBits), when counting. */
  readonly setBitsCounter: Uint32Array | undefined;

  /** u32 view for harvesting when the bitmap is 4-aligned (else the bytes are taken one by one). */
  readonly #words: Uint32Array | undefined;

  constructor(init: DirtyLogInit) {
    const { bytes } = init;
    if (!(bytes instanceof Uint8Array) || bytes.length === 0) throw new VnicError('invalid-argument', 'dirty log: bytes must be a non-empty Uint8Array');
    if (init.fd !== undefined && (!Number.isInteger(init.fd) || init.fd < 0))
      throw new VnicError('invalid-argument', `dirty log: fd ${init.fd} is not a file descriptor`);
    const fdOffset = init.fdOffset ?? 0;
    if (!Number.isSafeInteger(fdOffset) || fdOffset < 0)
      throw new VnicError('invalid-argument', `dirty log: fdOffset ${fdOffset} is not a non-negative integer`);
    if (init.hostAddr !== undefined && (BigInt(init.hostAddr) <= 0n || (typeof init.hostAddr === 'number' && !Number.isSafeInteger(init.hostAddr)))) {
      throw new VnicError('invalid-argument', `dirty log: hostAddr ${init.hostAddr} is not a host address`);
    }
    this.bytes = bytes;
    this.pages = bytes.length * 8;
    this.hostAddr = init.hostAddr === undefined ? undefined : BigInt(init.hostAddr);
    this.fd = init.fd;
    this.fdOffset = fdOffset;
    if (init.setBits !== undefined && (!(init.setBits instanceof Uint32Array) || init.setBits.length < 1))
      throw new VnicError('invalid-argument', 'dirty log: setBits must be a Uint32Array of at least one element');
    this.setBitsCounter = init.setBits;
    this.#words = bytes.byteOffset % 4 === 0 && bytes.length % 4 === 0 ? new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4) : undefined;
  }

  /**
   * A zeroed log over a new SharedArrayBuffer covering guest-physical [0, memoryEnd) (dirtyLogSize
   * bytes): for an in-process VMM and tests. A VMM that hands the log to the kernel or another
   * process gives a memfd mapping instead (`@vnic/sys` MemfdDirtyLog).
   */
  static allocate(memoryEnd: number): DirtyLog {
    const size = Math.max(8, dirtyLogSize(memoryEnd));
    return new DirtyLog({ bytes: new Uint8Array(new SharedArrayBuffer(size)) });
  }

  /**
   * The log another thread sent with `share()`; `viewHost` views `length` bytes at a host address
   * of this process (in `@vnic/sys`: viewHostMemory), needed for a `host` share.
   */
  static fromShare(share: DirtyLogShare, viewHost?: (hostAddr: bigint, length: number) => ArrayBuffer | Uint8Array): DirtyLog {
    const setBits = share.setBits === undefined ? {} : { setBits: new Uint32Array(share.setBits) };
    if (share.kind === 'shared') return new DirtyLog({ bytes: new Uint8Array(share.buffer, share.byteOffset, share.byteLength), ...setBits });
    if (viewHost === undefined) throw new VnicError('invalid-argument', 'dirty log: a host-address share needs a viewHost function');
    const v = viewHost(share.hostAddr, share.byteLength);
    const bytes = v instanceof Uint8Array ? v : new Uint8Array(v);
    if (bytes.length !== share.byteLength)
      throw new VnicError('invalid-argument', `dirty log: the view has ${bytes.length} bytes, expected ${share.byteLength}`);
    return new DirtyLog({ bytes, hostAddr: share.hostAddr, ...setBits });
  }

  /**
   * Bits turned from 0 to 1 by marks on this log and its shared copies since counting began (0
   * when not counting): with the reader clearing bits as it takes them, the exact number of page
   * marks it received (a page re-dirtied after a take counts again). u32, wraps at 2^32.
   */
  get setBits(): number {
    const c = this.setBitsCounter;
    return c === undefined ? 0 : Atomics.load(c, 0);
  }

  /** Bytes of guest-physical address space the log covers ([0, coveredBytes)). */
  get coveredBytes(): number {
    return this.pages * DIRTY_LOG_PAGE_SIZE;
  }

  /** True when `share()` works: the bitmap is a SharedArrayBuffer or has a host address. */
  get shareable(): boolean {
    return this.bytes.buffer instanceof SharedArrayBuffer || this.hostAddr !== undefined;
  }

  /** How to send this log to another thread (the same memory); throws when it is neither shared nor mapped. */
  share(): DirtyLogShare {
    const b = this.bytes;
    const c = this.setBitsCounter;
    if (c !== undefined && (!(c.buffer instanceof SharedArrayBuffer) || c.byteOffset !== 0))
      throw new VnicError('invalid-argument', 'dirty log: setBits must start a SharedArrayBuffer to be shared with IO threads');
    const setBits = c === undefined ? {} : { setBits: c.buffer as SharedArrayBuffer };
    if (b.buffer instanceof SharedArrayBuffer) return { kind: 'shared', buffer: b.buffer, byteOffset: b.byteOffset, byteLength: b.length, ...setBits };
    if (this.hostAddr !== undefined) return { kind: 'host', hostAddr: this.hostAddr, byteLength: b.length, ...setBits };
    throw new VnicError('invalid-argument', 'dirty log: the bitmap is neither a SharedArrayBuffer nor a mapping with a hostAddr: IO threads cannot write it');
  }

  /** Marks page `page` dirty (a page outside the log is counted in `outOfRange`). */
  markPage(page: number): void {
    if (!(page >= 0 && page < this.pages) || !Number.isInteger(page)) {
      this.outOfRange++;
      return;
    }
    this.#or(page >>> 3, 1 << (page & 7));
  }

  /**
   * Marks every page that [gpa, gpa + len) touches. `len` 0 marks nothing. Overflow-safe for any
   * Number input: a range that is not safe integers or ends past the log is counted in
   * `outOfRange`; the part of it inside the log is still marked.
   */
  markRange(gpa: number, len: number): void {
    if (len === 0) return;
    if (!(gpa >= 0) || !(len > 0) || !Number.isSafeInteger(gpa) || !Number.isSafeInteger(len) || len > Number.MAX_SAFE_INTEGER - gpa) {
      this.outOfRange++;
      return;
    }
    const first = Math.floor(gpa / DIRTY_LOG_PAGE_SIZE);
    let last = Math.floor((gpa + len - 1) / DIRTY_LOG_PAGE_SIZE);
    if (last >= this.pages) {
      this.outOfRange++;
      if (first >= this.pages) return;
      last = this.pages - 1;
    }
    if (first === last) {
      this.#or(first >>> 3, 1 << (first & 7));
      return;
    }
    // One Atomics.or per byte of the log the range touches.
    const b0 = first >>> 3;
    const b1 = last >>> 3;
    if (b0 === b1) {
      this.#or(b0, (0xff << (first & 7)) & (0xff >>> (7 - (last & 7))));
      return;
    }
    this.#or(b0, (0xff << (first & 7)) & 0xff);
    for (let b = b0 + 1; b < b1; b++) this.#or(b, 0xff);
    this.#or(b1, 0xff >>> (7 - (last & 7)));
  }

  /** Atomics.or of `mask` into byte `i`; when counting, adds the bits it turned from 0 to 1. */
  #or(i: number, mask: number): void {
    const old = Atomics.or(this.bytes, i, mask);
    const c = this.setBitsCounter;
    if (c === undefined) return;
    const fresh = mask & ~old;
    if (fresh !== 0) Atomics.add(c, 0, popcount8(fresh));
  }

  /** True when page `page` is marked (false outside the log). */
  isDirty(page: number): boolean {
    if (!(page >= 0 && page < this.pages) || !Number.isInteger(page)) return false;
    return (Atomics.load(this.bytes, page >>> 3) & (1 << (page & 7))) !== 0;
  }

  /** Number of pages marked now (a snapshot; nothing cleared). */
  countDirty(): number {
    let n = 0;
    const bytes = this.bytes;
    for (let i = 0; i < bytes.length; i++) n += popcount8(Atomics.load(bytes, i));
    return n;
  }

  /** The pages marked now, ascending (a snapshot; nothing cleared). */
  dirtyPages(): number[] {
    const out: number[] = [];
    const bytes = this.bytes;
    for (let i = 0; i < bytes.length; i++) pushBits(out, Atomics.load(bytes, i), 8 * i);
    return out;
  }

  /**
   * Read-and-clear for the VMM: returns the pages marked, ascending, and clears exactly those
   * bits (Atomics.exchange per word: a bit a writer sets meanwhile is either returned now or left
   * for the next call, never lost).
   */
  takeDirtyPages(): number[] {
    const out: number[] = [];
    const w = this.#words;
    if (w !== undefined) {
      for (let i = 0; i < w.length; i++) {
        if (w[i] === 0) continue; // a plain read to skip clean words; the exchange below is what counts
        pushBits(out, Atomics.exchange(w, i, 0) >>> 0, 32 * i);
      }
      return out;
    }
    const bytes = this.bytes;
    for (let i = 0; i < bytes.length; i++) if (bytes[i] !== 0) pushBits(out, Atomics.exchange(bytes, i, 0), 8 * i);
    return out;
  }

  /**
   * Read-and-clear into a bitmap of the VMM's (same layout, at least `bytes.length` bytes): ORs the
   * marked bits into `into` (so repeated calls accumulate) and clears them here. Returns the
   * number of pages taken.
   */
  takeBitmap(into: Uint8Array): number {
    const bytes = this.bytes;
    if (into.length < bytes.length) throw new VnicError('invalid-argument', `dirty log: takeBitmap needs ${bytes.length} bytes, got ${into.length}`);
    let n = 0;
    for (let i = 0; i < bytes.length; i++) {
      if (bytes[i] === 0) continue;
      const v = Atomics.exchange(bytes, i, 0);
      into[i]! |= v;
      n += popcount8(v);
    }
    return n;
  }

  /** Clears every bit (e.g. when a new copy pass starts from a full copy). */
  clear(): void {
    const w = this.#words;
    if (w !== undefined) for (let i = 0; i < w.length; i++) Atomics.store(w, i, 0);
    else for (let i = 0; i < this.bytes.length; i++) Atomics.store(this.bytes, i, 0);
  }
}

function popcount8(v: number): number {
  let n = 0;
  for (let x = v & 0xff; x !== 0; x &= x - 1) n++;
  return n;
}

/** Appends `base + i` for every set bit i of `bits` (ascending). */
function pushBits(out: number[], bits: number, base: number): void {
  for (let x = bits >>> 0, i = 0; x !== 0; x >>>= 1, i++) if ((x & 1) !== 0) out.push(base + i);
}
