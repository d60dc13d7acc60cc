/** A region of guest memory as the data plane sees it: a zero-copy view and its addresses. */
export interface GuestMemoryRegion {
  /** Guest-physical address of the first byte. */
  readonly guestPhysAddr: number;
  /** Size in bytes (equals `bytes.length`). */
  readonly size: number;
  /** Zero-copy bytes of the region. */
  readonly bytes: Uint8Array;
  /** Little-endian accessor over the same bytes. */
  readonly view: DataView;
  /** 16-bit view of the same bytes for Atomics on ring indices (undefined when bytes are unaligned). */
  readonly u16: Uint16Array | undefined;
  /** Host virtual address of `bytes[0]` as a Number (x86-64 user addresses fit in 2^47), or -1. */
  readonly hostAddr: number;
}
