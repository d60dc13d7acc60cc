import { hasFeature, VIRTIO_F_EVENT_IDX } from '@vnic/core';
import type { FrontendLog } from './FrontendLog.ts';
import { VhostUserDeviceError } from './VhostUserDeviceError.ts';
import type { Vring } from './VringTable.ts';

/** SET_VRING_ADDR flags bit VHOST_VRING_F_LOG (linux/vhost_types.h: 1 << 0). */
const VRING_F_LOG_MASK = 1;

/**
 * For a ring whose SET_VRING_ADDR asks for used-ring logging (VHOST_VRING_F_LOG): the
 * log_guest_addr must be the used ring's guest-physical address (vnic marks used-ring writes at
 * the address it writes, as QEMU sets it) and the whole used ring must lie inside the log
 * (vhost-user.rst "Migration": "the bit offset of the last byte of the ring must fall within the
 * size supplied"). Nothing to check without a log or without the flag. Throws a
 * VhostUserDeviceError `protocol` starting with `at`.
 */
export function checkLogCovers(index: number, ring: Vring, usedRing: number, log: FrontendLog | undefined, at: string, features?: bigint): void {
  const a = ring.addr;
  if (log === undefined || a === undefined || ring.num === undefined || (a.flags & VRING_F_LOG_MASK) === 0) return;
  if (a.logGuestAddr !== BigInt(usedRing))
    throw new VhostUserDeviceError(
      'protocol',
      `${at}: vring ${index} asks for used-ring logging at log_guest_addr 0x${a.logGuestAddr.toString(16)}, but its used ring is at guest-physical 0x${usedRing.toString(16)}: vnic logs the pages it writes, so the two must match`,
    );
  const len = 4 + 8 * ring.num + (features !== undefined && hasFeature(features, VIRTIO_F_EVENT_IDX) ? 2 : 0);
  if (usedRing + len > log.covers)
    throw new VhostUserDeviceError(
      'protocol',
      `${at}: vring ${index} used ring [0x${usedRing.toString(16)}, 0x${(usedRing + len).toString(16)}) ends past the dirty log, which covers addresses below 0x${log.covers.toString(16)}`,
    );
}
