/**
 * What both bench guests (RingRecycler on a split ring, PackedRingRecycler on a packed one) count
 * and how they end a pump: the used entries recycled, their bytes, the zero-length ones, and a
 * kick when the device asked for one.
 */
export abstract class RecyclerCounters {
  /** Used entries recycled (frames, for one-buffer chains). */
  elements = 0;
  /** Sum of their used lengths. */
  bytes = 0;
  /** Used entries with length 0 (the device rejected the chain). */
  zeroLength = 0;
  /** Kicks sent. */
  kicks = 0;
  private readonly kick: () => void;

  /** `kick` notifies the device. */
  constructor(kick: () => void) {
    this.kick = kick;
  }

  /** Counts a pump's `n` entries (`bytes` in all, `zero` of length 0) and kicks when `kickNeeded`. */
  protected account(n: number, bytes: number, zero: number, kickNeeded: boolean): void {
    this.elements += n;
    this.bytes += bytes;
    this.zeroLength += zero;
    if (!kickNeeded) return;
    this.kicks++;
    this.kick();
  }
}
