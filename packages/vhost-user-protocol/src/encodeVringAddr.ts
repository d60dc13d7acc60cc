import type { VhostVringAddr } from '@vnic/core';
import { VhostUserProtocolError } from './VhostUserProtocolError.ts';
import { VHOST_USER_VRING_ADDR_SIZE } from './vhost_user.ts';

/**
 * A vring address payload (struct vhost_vring_addr): u32 index, u32 flags, then the u64
 * descriptor, used, available (frontend virtual addresses) and log (guest-physical) addresses.
 */
export function encodeVringAddr(index: number, addr: VhostVringAddr): Uint8Array {
  if (!Number.isInteger(index) || index < 0 || index > 0xffff_ffff) throw new VhostUserProtocolError('invalid-argument', `vring index ${index} is not a u32`);
  const out = new Uint8Array(VHOST_USER_VRING_ADDR_SIZE);
  const v = new DataView(out.buffer);
  v.setUint32(0, index, true);
  v.setUint32(4, addr.flags >>> 0, true);
  v.setBigUint64(8, addr.descUserAddr, true);
  v.setBigUint64(16, addr.usedUserAddr, true);
  v.setBigUint64(24, addr.availUserAddr, true);
  v.setBigUint64(32, addr.logGuestAddr, true);
  return out;
}
