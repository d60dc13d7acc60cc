import { VIRTQ_DESC_F_AVAIL, VIRTQ_DESC_F_USED } from '../defs/virtio.ts';

/**
 * What the AVAIL and USED bits of a packed ring descriptor say to a reader whose wrap counter is
 * `wrap` (virtio 1.2 §2.8.1): available when AVAIL matches it and USED does not, used when both do.
 */
export const PackedDesc = {
  /** True when the driver made the descriptor available in the lap of wrap counter `wrap`. */
  isAvail(flags: number, wrap: boolean): boolean {
    return ((flags & VIRTQ_DESC_F_AVAIL) !== 0) === wrap && ((flags & VIRTQ_DESC_F_USED) !== 0) !== wrap;
  },
  /** True when the device marked the descriptor used in the lap of wrap counter `wrap`. */
  isUsed(flags: number, wrap: boolean): boolean {
    return ((flags & VIRTQ_DESC_F_USED) !== 0) === wrap && ((flags & VIRTQ_DESC_F_AVAIL) !== 0) === wrap;
  },
  /** The AVAIL/USED bits a driver writes to make a descriptor available in the lap of `wrap`. */
  availBits(wrap: boolean): number {
    return wrap ? VIRTQ_DESC_F_AVAIL : VIRTQ_DESC_F_USED;
  },
  /** The AVAIL/USED bits a device writes to mark a descriptor used in the lap of `wrap`. */
  usedBits(wrap: boolean): number {
    return wrap ? VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED : 0;
  },
} as const;
