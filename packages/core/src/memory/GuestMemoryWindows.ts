/**
 * How GuestMemory cuts a region into views. Window k of a region starts `stride * k` bytes in and
 * is `stride + overlap` bytes long (the last one ends with the region), so any range of at most
 * `overlap` bytes inside the region lies wholly inside the window its first byte falls in: rings,
 * descriptors and frames never straddle two views. Longer ranges are copied in parts.
 */
export interface GuestMemoryWindows {
  /** Distance between window starts, bytes (a positive even safe integer). */
  readonly stride: number;
  /** Bytes each window reaches past the next window's start (a non-negative even safe integer). */
  readonly overlap: number;
}

/**
 * The default: 1 GiB windows reaching 1 MiB into the next. 1 MiB covers every ring of a
 * 32768-entry queue (512 KiB descriptor table) and any 64 KiB frame; windows of 1 GiB keep
 * every view far below the 2^32-byte limits, and a region of up to 1 GiB + 1 MiB (every region
 * of a small VM) stays one window, so the hot path is exactly what it was.
 */
export const DEFAULT_GUEST_MEMORY_WINDOWS: GuestMemoryWindows = { stride: 1 << 30, overlap: 1 << 20 };
