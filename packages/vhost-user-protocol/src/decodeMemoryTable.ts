import { VhostUserProtocolError } from './VhostUserProtocolError.ts';
import type { VhostUserMemoryRegion } from './VhostUserMemoryRegion.ts';
import { VHOST_MEMORY_BASELINE_NREGIONS, VHOST_USER_MEMORY_HDR_SIZE, VHOST_USER_MEMORY_REGION_SIZE } from './vhost_user.ts';

/**
 * Reads a SET_MEM_TABLE payload. Accepts any whole number of region slots from nregions up to 8:
 * the compact form (nregions slots), QEMU's full-size form (8) and user-mode Linux's virtio_uml
 * (2 slots, one or two used); nregions must be 1..8, the unused slots are ignored.
 */
export function decodeMemoryTable(payload: Uint8Array): VhostUserMemoryRegion[] {
  if (payload.length < VHOST_USER_MEMORY_HDR_SIZE) {
    throw new VhostUserProtocolError(
      'protocol',
      `SET_MEM_TABLE payload is ${payload.length} bytes, shorter than its ${VHOST_USER_MEMORY_HDR_SIZE}-byte header`,
    );
  }
  const v = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const n = v.getUint32(0, true);
  if (n < 1 || n > VHOST_MEMORY_BASELINE_NREGIONS) {
    throw new VhostUserProtocolError('protocol', `SET_MEM_TABLE nregions ${n} is outside 1..${VHOST_MEMORY_BASELINE_NREGIONS}`);
  }
  const compact = VHOST_USER_MEMORY_HDR_SIZE + n * VHOST_USER_MEMORY_REGION_SIZE;
  const full = VHOST_USER_MEMORY_HDR_SIZE + VHOST_MEMORY_BASELINE_NREGIONS * VHOST_USER_MEMORY_REGION_SIZE;
  const slots = payload.length - VHOST_USER_MEMORY_HDR_SIZE;
  if (payload.length < compact || payload.length > full || slots % VHOST_USER_MEMORY_REGION_SIZE !== 0) {
    throw new VhostUserProtocolError(
      'protocol',
      `SET_MEM_TABLE payload is ${payload.length} bytes, expected ${compact} to ${full} (whole ${VHOST_USER_MEMORY_REGION_SIZE}-byte region slots) for ${n} regions`,
    );
  }
  const out: VhostUserMemoryRegion[] = [];
  for (let i = 0; i < n; i++) {
    const off = VHOST_USER_MEMORY_HDR_SIZE + i * VHOST_USER_MEMORY_REGION_SIZE;
    out.push({
      guestPhysAddr: v.getBigUint64(off, true),
      memorySize: v.getBigUint64(off + 8, true),
      userspaceAddr: v.getBigUint64(off + 16, true),
      mmapOffset: v.getBigUint64(off + 24, true),
    });
  }
  return out;
}
