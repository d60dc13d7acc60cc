import type { GuestMemoryRegion } from './GuestMemoryRegion.ts';

/** One region of the memory map: its addresses (any size) and the windows that view it. */
export interface GuestMemoryRegionInfo {
  /** Guest-physical address of the first byte. */
  readonly guestPhysAddr: number;
  /** Size in bytes (may exceed what one JS view can hold). */
  readonly size: number;
  /** Host virtual address of the first byte as a Number, or -1 when the region has none. */
  readonly hostAddr: number;
  /** Windows in address order; window k starts `k * windowStride` bytes into the region. */
  readonly windows: readonly GuestMemoryRegion[];
}
