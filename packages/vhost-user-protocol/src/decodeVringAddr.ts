import type { VhostVringAddr } from '@vnic/core';
import { payloadView } from './payloadView.ts';
import { VHOST_USER_VRING_ADDR_SIZE } from './vhost_user.ts';

/** Reads a vring address payload (exactly 40 bytes). */
export function decodeVringAddr(payload: Uint8Array): { readonly index: number; readonly addr: VhostVringAddr } {
  const v = payloadView(payload, VHOST_USER_VRING_ADDR_SIZE, 'vring address');
  return {
    index: v.getUint32(0, true),
    addr: {
      flags: v.getUint32(4, true),
      descUserAddr: v.getBigUint64(8, true),
      usedUserAddr: v.getBigUint64(16, true),
      availUserAddr: v.getBigUint64(24, true),
      logGuestAddr: v.getBigUint64(32, true),
    },
  };
}
