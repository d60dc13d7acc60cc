import type { VhostUserMemoryRegion } from '@vnic/vhost-user-protocol';

const U64_END = 1n << 64n;
/** Guest addresses stay JS Numbers on the data path: every region must end below 2^53. */
const SAFE_END = BigInt(Number.MAX_SAFE_INTEGER) + 1n;

const hex = (v: bigint): string => `0x${v.toString(16)}`;

/**
 * Checks a SET_MEM_TABLE before anything is mapped: one fd per region, every region non-empty,
 * inside the fd it comes with (`fileSizes[i]` bytes: a region past the end of its file would fault
 * the process on first touch), guest-physical ranges below 2^53 and frontend virtual ranges below
 * 2^64 (no wrap-around), and no two regions overlapping in either space. Overflow-safe (BigInt).
 * Returns what is wrong, or undefined.
 */
export function checkMemoryTable(regions: readonly VhostUserMemoryRegion[], fileSizes: readonly bigint[]): string | undefined {
  if (fileSizes.length !== regions.length) {
    return `${regions.length} region(s) but ${fileSizes.length} fd(s) attached; expected one fd per region`;
  }
  const at = (i: number): string => {
    const r = regions[i]!;
    return `region ${i} (guest ${hex(r.guestPhysAddr)}+${hex(r.memorySize)}, user ${hex(r.userspaceAddr)}, mmap_offset ${hex(r.mmapOffset)})`;
  };
  for (const [i, r] of regions.entries()) {
    if (r.memorySize === 0n) return `${at(i)}: memory_size is 0`;
    if (r.guestPhysAddr + r.memorySize > SAFE_END) return `${at(i)}: ends above 2^53, beyond what vnic addresses`;
    if (r.userspaceAddr + r.memorySize > U64_END) return `${at(i)}: userspace_addr + memory_size wraps around 2^64`;
    const fileSize = fileSizes[i]!;
    if (r.mmapOffset + r.memorySize > fileSize) {
      return `${at(i)}: too small: its fd holds ${fileSize} bytes, the region needs mmap_offset + memory_size = ${r.mmapOffset + r.memorySize}`;
    }
  }
  for (let i = 0; i < regions.length; i++) {
    for (let j = i + 1; j < regions.length; j++) {
      const a = regions[i]!;
      const b = regions[j]!;
      if (a.guestPhysAddr < b.guestPhysAddr + b.memorySize && b.guestPhysAddr < a.guestPhysAddr + a.memorySize)
        return `${at(j)} overlaps ${at(i)} in guest-physical space`;
      if (a.userspaceAddr < b.userspaceAddr + b.memorySize && b.userspaceAddr < a.userspaceAddr + a.memorySize)
        return `${at(j)} overlaps ${at(i)} in frontend virtual space`;
    }
  }
  return undefined;
}
