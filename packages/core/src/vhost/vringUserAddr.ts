import { VnicError } from '../errors/VnicError.ts';
import type { GuestMemoryLayout } from '../memory/GuestMemoryLayout.ts';
import type { VhostVringAddr } from './VhostVringAddr.ts';

/**
 * VHOST_SET_VRING_ADDR takes FRONTEND (VMM) virtual addresses, for the kernel vhost-net backend
 * and vhost-user alike: translates the guest-physical ring addresses through the region that
 * holds each whole ring (userspace_addr = the region's `hostAddr`), with overflow-safe bounds.
 * Throws VnicError `invalid-argument` when a ring is outside every region or its region has no
 * host mapping.
 */
export function vringUserAddr(
  memory: GuestMemoryLayout,
  ring: { readonly descTable: number; readonly availRing: number; readonly usedRing: number; readonly size: number },
): VhostVringAddr {
  const translate = (what: string, gpa: number, bytes: number): bigint => {
    if (Number.isSafeInteger(gpa) && gpa >= 0) {
      for (const r of memory.regions) {
        // gpa - base and size - bytes stay exact: every operand is a safe integer.
        if (gpa >= r.guestPhysAddr && bytes <= r.size && gpa - r.guestPhysAddr <= r.size - bytes) {
          if (r.hostAddr <= 0n) throw new VnicError('invalid-argument', `${what} at 0x${gpa.toString(16)}: its region has no host mapping (hostAddr)`);
          return r.hostAddr + BigInt(gpa - r.guestPhysAddr);
        }
      }
    }
    throw new VnicError('invalid-argument', `${what} at 0x${gpa.toString(16)} (+${bytes}) is outside guest memory`);
  };
  return {
    flags: 0,
    descUserAddr: translate('descriptor table', ring.descTable, 16 * ring.size),
    usedUserAddr: translate('used ring', ring.usedRing, 6 + 8 * ring.size),
    availUserAddr: translate('available ring', ring.availRing, 6 + 2 * ring.size),
    logGuestAddr: BigInt(ring.usedRing),
  };
}
