import { VnicError } from '../errors/VnicError.ts';
import type { GuestMemoryLayout, GuestMemoryRegionLayout } from './GuestMemoryLayout.ts';
import type { GuestMemoryRegion } from './GuestMemoryRegion.ts';

/** Makes the zero-copy bytes for a region from its layout (in @vnic/sys: a view of the mapping). */
export type RegionViewer = (region: GuestMemoryRegionLayout) => ArrayBuffer | Uint8Array;

/** What `new GuestMemory()` takes per region. */
export interface GuestMemoryRegionInit {
  readonly guestPhysAddr: number;
  readonly bytes: Uint8Array;
  readonly hostAddr?: number | bigint;
}

/**
 * Consumer-side access to the VM's physical memory: a sorted set of non-overlapping
 * regions, each a zero-copy byte view. Every lookup checks bounds with arithmetic that
 * cannot overflow: an address the guest wrote is never trusted.
 */
export class GuestMemory {
  /** Regions sorted by guest-physical address. */
  readonly regions: readonly GuestMemoryRegion[];
  private last: GuestMemoryRegion | undefined;

  constructor(regions: readonly GuestMemoryRegionInit[]) {
    const list = regions
      .map((r): GuestMemoryRegion => {
        if (!Number.isSafeInteger(r.guestPhysAddr) || r.guestPhysAddr < 0) {
          throw new VnicError('invalid-argument', `guest memory region base ${r.guestPhysAddr} is not a safe non-negative integer`);
        }
        // Rejected outright: otherwise the overlap check below would accept or reject an empty
        // region at another region's base depending on the order the regions were given in.
        if (r.bytes.length === 0) {
          throw new VnicError('invalid-argument', `guest memory region at 0x${r.guestPhysAddr.toString(16)} is empty`);
        }
        const host = r.hostAddr === undefined ? -1 : Number(r.hostAddr);
        return {
          guestPhysAddr: r.guestPhysAddr,
          size: r.bytes.length,
          bytes: r.bytes,
          view: new DataView(r.bytes.buffer, r.bytes.byteOffset, r.bytes.byteLength),
          u16: r.bytes.byteOffset % 2 === 0 ? new Uint16Array(r.bytes.buffer, r.bytes.byteOffset, r.bytes.byteLength >>> 1) : undefined,
          hostAddr: host,
        };
      })
      .sort((a, b) => a.guestPhysAddr - b.guestPhysAddr);
    for (let i = 1; i < list.length; i++) {
      const prev = list[i - 1]!;
      const cur = list[i]!;
      if (cur.guestPhysAddr - prev.guestPhysAddr < prev.size) {
        throw new VnicError(
          'invalid-argument',
          `guest memory regions overlap: 0x${prev.guestPhysAddr.toString(16)}+0x${prev.size.toString(16)} and 0x${cur.guestPhysAddr.toString(16)}`,
        );
      }
    }
    for (const r of list) {
      if (r.guestPhysAddr + r.size > Number.MAX_SAFE_INTEGER) {
        throw new VnicError('invalid-argument', `guest memory region at 0x${r.guestPhysAddr.toString(16)} ends past 2^53`);
      }
    }
    this.regions = list;
    this.last = list[0];
  }

  /** Builds guest memory from a serializable layout (e.g. inside an IO thread). */
  static fromLayout(layout: GuestMemoryLayout, viewer: RegionViewer): GuestMemory {
    return new GuestMemory(
      layout.regions.map((r) => {
        const v = viewer(r);
        const bytes = v instanceof Uint8Array ? v : new Uint8Array(v);
        if (bytes.length !== r.size) {
          throw new VnicError('invalid-argument', `guest memory region view has ${bytes.length} bytes, layout says ${r.size}`);
        }
        return { guestPhysAddr: r.guestPhysAddr, bytes, hostAddr: r.hostAddr };
      }),
    );
  }

  /** Total bytes of guest memory. */
  get size(): number {
    let n = 0;
    for (const r of this.regions) n += r.size;
    return n;
  }

  /**
   * The region that wholly contains [gpa, gpa + len), or undefined. `len` may be 0
   * (then `gpa` must still lie inside a region). Overflow-safe for any Number input.
   */
  regionOf(gpa: number, len: number): GuestMemoryRegion | undefined {
    if (!(gpa >= 0) || !(len >= 0) || !Number.isSafeInteger(gpa) || !Number.isSafeInteger(len)) return undefined;
    const last = this.last;
    if (last !== undefined && gpa >= last.guestPhysAddr) {
      const off = gpa - last.guestPhysAddr;
      if (off < last.size && len <= last.size - off) return last;
    }
    const regions = this.regions;
    for (let i = 0; i < regions.length; i++) {
      const r = regions[i]!;
      if (gpa < r.guestPhysAddr) return undefined;
      const off = gpa - r.guestPhysAddr;
      if (off < r.size) {
        if (len <= r.size - off) {
          this.last = r;
          return r;
        }
        return undefined;
      }
    }
    return undefined;
  }

  /** True when [gpa, gpa + len) lies inside one region. */
  checkRange(gpa: number, len: number): boolean {
    return this.regionOf(gpa, len) !== undefined;
  }

  /** Zero-copy bytes of [gpa, gpa + len), or undefined when the range is not inside one region. */
  slice(gpa: number, len: number): Uint8Array | undefined {
    const r = this.regionOf(gpa, len);
    if (r === undefined) return undefined;
    const off = gpa - r.guestPhysAddr;
    return r.bytes.subarray(off, off + len);
  }

  /** Host virtual address of `gpa` (for iovecs), or undefined when out of memory or unmapped. */
  hostAddress(gpa: number, len: number): number | undefined {
    const r = this.regionOf(gpa, len);
    if (r === undefined || r.hostAddr < 0) return undefined;
    return r.hostAddr + (gpa - r.guestPhysAddr);
  }

  /** Copies `src` to guest memory at `gpa`; false (nothing written) when out of bounds. */
  write(gpa: number, src: Uint8Array): boolean {
    const dst = this.slice(gpa, src.length);
    if (dst === undefined) return false;
    dst.set(src);
    return true;
  }

  /** Copies `len` bytes from guest memory at `gpa`; undefined when out of bounds. */
  read(gpa: number, len: number): Uint8Array | undefined {
    const s = this.slice(gpa, len);
    return s === undefined ? undefined : s.slice();
  }
}
