import { featureBit } from '@vnic/core';
import {
  VIRTIO_NET_F_GUEST_CSUM,
  VIRTIO_NET_F_GUEST_ECN,
  VIRTIO_NET_F_GUEST_TSO4,
  VIRTIO_NET_F_GUEST_TSO6,
  VIRTIO_NET_F_GUEST_UFO,
} from '@vnic/core/virtio_net';
import { TUN_F_CSUM, TUN_F_TSO4, TUN_F_TSO6, TUN_F_TSO_ECN, TUN_F_UFO } from '../linux/if_tun.ts';

const has = (f: bigint, bit: number): boolean => (f & featureBit(bit)) !== 0n;

/**
 * The TUNSETOFFLOAD flags for the receive offloads the guest accepts (`guestOffloads`: its acked
 * GUEST_* features, or the last VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET): they tell the kernel what
 * the tap may hand to the guest. TUN_F_CSUM for GUEST_CSUM; TSO4/TSO6/UFO for GUEST_TSO4/TSO6/UFO
 * (only with CSUM, as the kernel requires); TSO_ECN for GUEST_ECN with TSO4 or TSO6. Masked by
 * `supported` (what Tap.probeOffloads reported). 0 makes the kernel checksum and segment everything.
 */
export function tunOffloadFlags(guestOffloads: bigint, supported: number): number {
  if (!has(guestOffloads, VIRTIO_NET_F_GUEST_CSUM) || (supported & TUN_F_CSUM) === 0) return 0;
  let flags = TUN_F_CSUM;
  if (has(guestOffloads, VIRTIO_NET_F_GUEST_TSO4)) flags |= TUN_F_TSO4;
  if (has(guestOffloads, VIRTIO_NET_F_GUEST_TSO6)) flags |= TUN_F_TSO6;
  if (has(guestOffloads, VIRTIO_NET_F_GUEST_UFO)) flags |= TUN_F_UFO;
  flags &= supported;
  if (has(guestOffloads, VIRTIO_NET_F_GUEST_ECN) && (flags & (TUN_F_TSO4 | TUN_F_TSO6)) !== 0) flags |= TUN_F_TSO_ECN & supported;
  return flags;
}
