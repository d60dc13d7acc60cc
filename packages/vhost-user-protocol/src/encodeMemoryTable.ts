import { VhostUserProtocolError } from './VhostUserProtocolError.ts';
import type { VhostUserMemoryRegion } from './VhostUserMemoryRegion.ts';
import { VHOST_MEMORY_BASELINE_NREGIONS, VHOST_USER_MEMORY_HDR_SIZE, VHOST_USER_MEMORY_REGION_SIZE } from './vhost_user.ts';

/**
 * A SET_MEM_TABLE payload: u32 nregions, u32 padding, then 1..8 regions of four u64 each
 * (QEMU sends only the used regions; the payload size follows nregions).
 */
export function encodeMemoryTable(regions: readonly VhostUserMemoryRegion[]): Uint8Array {
  if (regions.length < 1 || regions.length > VHOST_MEMORY_BASELINE_NREGIONS) {
    throw new VhostUserProtocolError(
      'invalid-argument',
      `SET_MEM_TABLE carries 1..${VHOST_MEMORY_BASELINE_NREGIONS} regions (VHOST_MEMORY_BASELINE_NREGIONS), got ${regions.length}`,
    );
  }
  const out = new Uint8Array(VHOST_USER_MEMORY_HDR_SIZE + regions.length * VHOST_USER_MEMORY_REGION_SIZE);
  const v = new DataView(out.buffer);
  v.setUint32(0, regions.length, true);
  regions.forEach((r, i) => {
    const off = VHOST_USER_MEMORY_HDR_SIZE + i * VHOST_USER_MEMORY_REGION_SIZE;
    if (r.memorySize <= 0n) throw new VhostUserProtocolError('invalid-argument', `SET_MEM_TABLE region ${i}: size must be positive`);
    v.setBigUint64(off, r.guestPhysAddr, true);
    v.setBigUint64(off + 8, r.memorySize, true);
    v.setBigUint64(off + 16, r.userspaceAddr, true);
    v.setBigUint64(off + 24, r.mmapOffset, true);
  });
  return out;
}
