import { VnicError } from '../errors/VnicError.ts';
import type { GuestMemoryLayout, GuestMemoryRegionLayout } from './GuestMemoryLayout.ts';
import type { GuestMemoryRegion } from './GuestMemoryRegion.ts';
import type { GuestMemoryRegionInfo } from './GuestMemoryRegionInfo.ts';
import { DEFAULT_GUEST_MEMORY_WINDOWS, type GuestMemoryWindows } from './GuestMemoryWindows.ts';

/**
 * Makes the zero-copy bytes of one window of a region from its layout: `length` bytes starting
 * `offset` bytes into the region (in @vnic/sys: a view of the mapping at hostAddr + offset).
 */
export type RegionViewer = (region: GuestMemoryRegionLayout, offset: number, length: number) => ArrayBuffer | Uint8Array;

/** A region given as one byte array (which GuestMemory cuts into windows when it is bigger than one). */
export interface GuestMemoryBytesInit {
  readonly guestPhysAddr: number;
  readonly bytes: Uint8Array;
  readonly hostAddr?: number | bigint;
}

/** A region of any size given by a function that views `length` bytes at `offset` (one call per window). */
export interface GuestMemoryViewInit {
  readonly guestPhysAddr: number;
  readonly size: number;
  viewWindow(offset: number, length: number): ArrayBuffer | Uint8Array;
  readonly hostAddr?: number | bigint;
}

/** What `new GuestMemory()` takes per region. */
export type GuestMemoryRegionInit = GuestMemoryBytesInit | GuestMemoryViewInit;

const hex = (n: number): string => `0x${n.toString(16)}`;

/**
 * Consumer-side access to the VM's physical memory: a sorted set of non-overlapping regions of
 * any size, each viewed through zero-copy windows (GuestMemoryWindows: 1 GiB windows that overlap
 * by 1 MiB by default, so any range of up to 1 MiB inside a region lies in one window). Every
 * lookup checks bounds with arithmetic that cannot overflow: an address the guest wrote is never
 * trusted.
 */
export class GuestMemory {
  /** Regions sorted by guest-physical address. */
  readonly regions: readonly GuestMemoryRegionInfo[];
  /** The window geometry. */
  readonly windows: GuestMemoryWindows;
  private last: GuestMemoryRegion | undefined;
  /** hostAddress's slot for hostAddressInto. */
  private readonly addrScratch = new Float64Array(1);

  constructor(regions: readonly GuestMemoryRegionInit[], windows: GuestMemoryWindows = DEFAULT_GUEST_MEMORY_WINDOWS) {
    const { stride, overlap } = windows;
    if (
      !Number.isSafeInteger(stride) ||
      stride <= 0 ||
      stride % 2 !== 0 ||
      !Number.isSafeInteger(overlap) ||
      overlap < 0 ||
      overlap % 2 !== 0 ||
      overlap > stride
    ) {
      throw new VnicError(
        'invalid-argument',
        `guest memory windows: stride ${stride} and overlap ${overlap} must be even safe integers with 0 <= overlap <= stride, stride > 0`,
      );
    }
    this.windows = { stride, overlap };
    const sizes = regions.map((r) => ('bytes' in r ? r.bytes.length : r.size));
    regions.forEach((r, i) => {
      if (!Number.isSafeInteger(r.guestPhysAddr) || r.guestPhysAddr < 0) {
        throw new VnicError('invalid-argument', `guest memory region base ${r.guestPhysAddr} is not a safe non-negative integer`);
      }
      const size = sizes[i]!;
      // Rejected outright: otherwise the overlap check below would accept or reject an empty
      // region at another region's base depending on the order the regions were given in.
      if (size === 0) throw new VnicError('invalid-argument', `guest memory region at ${hex(r.guestPhysAddr)} is empty`);
      if (!Number.isSafeInteger(size) || size < 0)
        throw new VnicError('invalid-argument', `guest memory region at ${hex(r.guestPhysAddr)}: size ${size} is not a positive safe integer`);
      if (r.guestPhysAddr + size > Number.MAX_SAFE_INTEGER)
        throw new VnicError('invalid-argument', `guest memory region at ${hex(r.guestPhysAddr)} ends past 2^53`);
    });
    const order = regions.map((_, i) => i).sort((a, b) => regions[a]!.guestPhysAddr - regions[b]!.guestPhysAddr);
    for (let i = 1; i < order.length; i++) {
      const prev = regions[order[i - 1]!]!;
      const cur = regions[order[i]!]!;
      if (cur.guestPhysAddr - prev.guestPhysAddr < sizes[order[i - 1]!]!) {
        throw new VnicError(
          'invalid-argument',
          `guest memory regions overlap: ${hex(prev.guestPhysAddr)}+${hex(sizes[order[i - 1]!]!)} and ${hex(cur.guestPhysAddr)}`,
        );
      }
    }
    this.regions = order.map((i) => this.makeRegion(regions[i]!, sizes[i]!));
    this.last = this.regions[0]?.windows[0];
  }

  /** Builds guest memory from a serializable layout (e.g. inside an IO thread), one viewer call per window. */
  static fromLayout(layout: GuestMemoryLayout, viewer: RegionViewer, windows: GuestMemoryWindows = DEFAULT_GUEST_MEMORY_WINDOWS): GuestMemory {
    return new GuestMemory(
      layout.regions.map((r) => ({
        guestPhysAddr: r.guestPhysAddr,
        size: r.size,
        hostAddr: r.hostAddr,
        viewWindow: (offset, length) => viewer(r, offset, length),
      })),
      windows,
    );
  }

  /** Total bytes of guest memory. */
  get size(): number {
    let n = 0;
    for (const r of this.regions) n += r.size;
    return n;
  }

  /**
   * The window that wholly contains [gpa, gpa + len), or undefined. Always found when the range
   * lies inside one region and `len` is at most `windows.overlap` (1 MiB by default); a longer
   * range that crosses a window edge has no single window (use chunk, read or write). `len` may
   * be 0 (then `gpa` must still lie inside a region). Overflow-safe for any Number input.
   */
  regionOf(gpa: number, len: number): GuestMemoryRegion | undefined {
    if (!(gpa >= 0) || !(len >= 0) || !Number.isSafeInteger(gpa) || !Number.isSafeInteger(len)) return undefined;
    const last = this.last;
    if (last !== undefined && gpa >= last.guestPhysAddr) {
      const off = gpa - last.guestPhysAddr;
      if (off < last.size && len <= last.size - off) return last;
    }
    const r = this.regionInfoOf(gpa, len);
    if (r === undefined) return undefined;
    const w = this.windowAt(r, gpa - r.guestPhysAddr);
    const off = gpa - w.guestPhysAddr;
    if (len > w.size - off) return undefined;
    this.last = w;
    return w;
  }

  /** True when [gpa, gpa + len) lies inside one region (of any size). */
  checkRange(gpa: number, len: number): boolean {
    if (!(gpa >= 0) || !(len >= 0) || !Number.isSafeInteger(gpa) || !Number.isSafeInteger(len)) return false;
    const last = this.last;
    if (last !== undefined && gpa >= last.guestPhysAddr) {
      const off = gpa - last.guestPhysAddr;
      if (off < last.size && len <= last.size - off) return true;
    }
    return this.regionInfoOf(gpa, len) !== undefined;
  }

  /**
   * Zero-copy bytes of [gpa, gpa + len), or undefined when the range has no single window (not
   * inside one region, or longer than `windows.overlap` and across a window edge).
   */
  slice(gpa: number, len: number): Uint8Array | undefined {
    const r = this.regionOf(gpa, len);
    if (r === undefined) return undefined;
    const off = gpa - r.guestPhysAddr;
    return r.bytes.subarray(off, off + len);
  }

  /**
   * Zero-copy bytes of the start of [gpa, gpa + len): all of it when it lies in one window, else
   * up to the end of the window `gpa` falls in (loop to copy a long range in parts). Undefined
   * when the range is not inside one region.
   */
  chunk(gpa: number, len: number): Uint8Array | undefined {
    if (!(gpa >= 0) || !(len >= 0) || !Number.isSafeInteger(gpa) || !Number.isSafeInteger(len)) return undefined;
    const last = this.last;
    if (last !== undefined && gpa >= last.guestPhysAddr) {
      const off = gpa - last.guestPhysAddr;
      if (off < last.size && len <= last.size - off) return last.bytes.subarray(off, off + len);
    }
    const r = this.regionInfoOf(gpa, len);
    if (r === undefined) return undefined;
    const w = this.windowAt(r, gpa - r.guestPhysAddr);
    const off = gpa - w.guestPhysAddr;
    return w.bytes.subarray(off, off + Math.min(len, w.size - off));
  }

  /** Host virtual address of `gpa` (for iovecs: a region's mapping is contiguous), or undefined when out of memory or unmapped. */
  hostAddress(gpa: number, len: number): number | undefined {
    const out = this.addrScratch;
    return this.hostAddressInto(gpa, len, out, 0) ? out[0] : undefined;
  }

  /**
   * hostAddress for a data plane's hot path: writes the host address of [gpa, gpa + len) into
   * `out[at]` and returns true, or returns false (out of memory, across regions, unmapped) and
   * leaves `out` alone. A host address is above 2^31, so a call that returns it as a Number makes
   * a heap number unless the caller inlines it; a typed-array store makes none.
   */
  hostAddressInto(gpa: number, len: number, out: Float64Array, at: number): boolean {
    if (!(gpa >= 0) || !(len >= 0) || !Number.isSafeInteger(gpa) || !Number.isSafeInteger(len)) return false;
    const last = this.last;
    if (last !== undefined && gpa >= last.guestPhysAddr) {
      const off = gpa - last.guestPhysAddr;
      if (off < last.size && len <= last.size - off) {
        if (last.hostAddr < 0) return false;
        out[at] = last.hostAddr + off;
        return true;
      }
    }
    const r = this.regionInfoOf(gpa, len);
    if (r === undefined || r.hostAddr < 0) return false;
    out[at] = r.hostAddr + (gpa - r.guestPhysAddr);
    return true;
  }

  /** Copies `src` to guest memory at `gpa` (in parts across window edges); false (nothing written) when out of bounds. */
  write(gpa: number, src: Uint8Array): boolean {
    if (!this.checkRange(gpa, src.length)) return false;
    let done = 0;
    do {
      const dst = this.chunk(gpa + done, src.length - done)!;
      dst.set(done === 0 && dst.length === src.length ? src : src.subarray(done, done + dst.length));
      done += dst.length;
    } while (done < src.length);
    return true;
  }

  /** Copies `len` bytes from guest memory at `gpa` (in parts across window edges); undefined when out of bounds. */
  read(gpa: number, len: number): Uint8Array | undefined {
    const first = this.chunk(gpa, len);
    if (first === undefined) return undefined;
    if (first.length === len) return first.slice();
    const out = new Uint8Array(len);
    out.set(first);
    let done = first.length;
    while (done < len) {
      const s = this.chunk(gpa + done, len - done)!;
      out.set(s, done);
      done += s.length;
    }
    return out;
  }

  /** The region that wholly contains [gpa, gpa + len) (inputs already checked), or undefined. */
  private regionInfoOf(gpa: number, len: number): GuestMemoryRegionInfo | undefined {
    const regions = this.regions;
    for (let i = 0; i < regions.length; i++) {
      const r = regions[i]!;
      if (gpa < r.guestPhysAddr) return undefined;
      const off = gpa - r.guestPhysAddr;
      if (off < r.size) return len <= r.size - off ? r : undefined;
    }
    return undefined;
  }

  /** The window of `r` that `off` (inside `r`) falls in: the one starting at or below it nearest to it. */
  private windowAt(r: GuestMemoryRegionInfo, off: number): GuestMemoryRegion {
    const ws = r.windows;
    return ws.length === 1 ? ws[0]! : ws[Math.min(Math.floor(off / this.windows.stride), ws.length - 1)]!;
  }

  private makeRegion(init: GuestMemoryRegionInit, size: number): GuestMemoryRegionInfo {
    const { stride, overlap } = this.windows;
    const host = init.hostAddr === undefined ? -1 : Number(init.hostAddr);
    const count = size <= stride + overlap ? 1 : Math.ceil((size - overlap) / stride);
    const windows: GuestMemoryRegion[] = [];
    for (let k = 0; k < count; k++) {
      const offset = k * stride;
      const length = Math.min(stride + overlap, size - offset);
      let bytes: Uint8Array;
      if ('bytes' in init) {
        bytes = count === 1 ? init.bytes : init.bytes.subarray(offset, offset + length);
      } else {
        const v = init.viewWindow(offset, length);
        bytes = v instanceof Uint8Array ? v : new Uint8Array(v);
        if (bytes.length !== length) {
          throw new VnicError(
            'invalid-argument',
            `guest memory region at ${hex(init.guestPhysAddr)}: the view of window ${k} (offset ${hex(offset)}) has ${bytes.length} bytes, expected ${length}`,
          );
        }
      }
      windows.push({
        guestPhysAddr: init.guestPhysAddr + offset,
        size: length,
        bytes,
        view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength),
        u16: bytes.byteOffset % 2 === 0 ? new Uint16Array(bytes.buffer, bytes.byteOffset, Math.floor(bytes.byteLength / 2)) : undefined,
        hostAddr: host < 0 ? -1 : host + offset,
      });
    }
    return { guestPhysAddr: init.guestPhysAddr, size, hostAddr: host, windows };
  }
}
