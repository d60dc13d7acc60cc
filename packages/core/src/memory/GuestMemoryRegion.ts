/**
 * One window of guest memory as the data plane sees it: a zero-copy view of (part of) a region and
 * its addresses. A region that fits in one window (by default up to 1 GiB + 1 MiB) is one window;
 * a bigger one is cut into windows that overlap (see GuestMemoryWindows), because one JS view of
 * 4 GiB or more cannot be made (koffi aborts above 4 GiB; a 16-bit view of exactly 4 GiB is empty).
 */
export interface GuestMemoryRegion {
  /** Guest-physical address of the window's first byte. */
  readonly guestPhysAddr: number;
  /** Size of the window in bytes (equals `bytes.length`). */
  readonly size: number;
  /** Zero-copy bytes of the window. */
  readonly bytes: Uint8Array;
  /** Little-endian accessor over the same bytes. */
  readonly view: DataView;
  /** 16-bit view of the same bytes for Atomics on ring indices (undefined when bytes are unaligned). */
  readonly u16: Uint16Array | undefined;
  /** Host virtual address of `bytes[0]` as a Number (x86-64 user addresses fit in 2^47), or -1. */
  readonly hostAddr: number;
}
