import type { GuestMemoryLayout, VhostVringAddr } from '@vnic/core';
import { VhostUserError } from '../VhostUserError.ts';

/**
 * SET_VRING_ADDR takes FRONTEND virtual addresses: translates the guest-physical ring addresses
 * through the region that holds each ring (userspace_addr = the region's `hostAddr`). Throws
 * `invalid-argument` when a ring is outside every region or the region has no host mapping.
 */
export function vringUserAddr(
  memory: GuestMemoryLayout,
  ring: { readonly descTable: number; readonly availRing: number; readonly usedRing: number; readonly size: number },
): VhostVringAddr {
  const translate = (what: string, gpa: number, bytes: number): bigint => {
    for (const r of memory.regions) {
      if (gpa >= r.guestPhysAddr && gpa - r.guestPhysAddr <= r.size - bytes) {
        if (r.hostAddr <= 0n) throw new VhostUserError('invalid-argument', `${what} at 0x${gpa.toString(16)}: its region has no host mapping (hostAddr)`);
        return r.hostAddr + BigInt(gpa - r.guestPhysAddr);
      }
    }
    throw new VhostUserError('invalid-argument', `${what} at 0x${gpa.toString(16)} (+${bytes}) is outside guest memory`);
  };
  return {
    flags: 0,
    descUserAddr: translate('descriptor table', ring.descTable, 16 * ring.size),
    usedUserAddr: translate('used ring', ring.usedRing, 6 + 8 * ring.size),
    availUserAddr: translate('available ring', ring.availRing, 6 + 2 * ring.size),
    logGuestAddr: BigInt(ring.usedRing),
  };
}
