import type { GuestMemoryRegion } from '../memory/GuestMemoryRegion.ts';

/**
 * 16-bit ring fields at byte `off` of a guest memory window: Atomics (sequentially consistent)
 * where the window has an aligned 16-bit view, so a peer on another thread sees ring entries before
 * the flags or indices that publish them; a plain little-endian access otherwise.
 */
export const ringU16 = {
  /** Reads the u16 at `off`. */
  load(r: GuestMemoryRegion, off: number): number {
    return r.u16 !== undefined && off % 2 === 0 ? Atomics.load(r.u16, off >>> 1) : r.view.getUint16(off, true);
  },
  /**
   * Writes the u16 at `off` without ordering it: for a field a later `store` of the same writer
   * publishes (a peer reads it only after it saw that store).
   */
  set(r: GuestMemoryRegion, off: number, value: number): void {
    if (r.u16 !== undefined && off % 2 === 0) r.u16[off >>> 1] = value;
    else r.view.setUint16(off, value, true);
  },
  /** Writes the u16 at `off`. */
  store(r: GuestMemoryRegion, off: number, value: number): void {
    if (r.u16 !== undefined && off % 2 === 0) Atomics.store(r.u16, off >>> 1, value);
    else r.view.setUint16(off, value, true);
  },
} as const;
