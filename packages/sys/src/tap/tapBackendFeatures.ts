import { featureBit, featureBits, NET_CTRL_FEATURES, VIRTIO_F_EVENT_IDX, VIRTIO_F_INDIRECT_DESC, VIRTIO_F_VERSION_1 } from '@vnic/core';
import * as N from '@vnic/core/virtio_net';
import { TUN_F_CSUM, TUN_F_TSO4, TUN_F_TSO6, TUN_F_TSO_ECN, TUN_F_UFO } from '../linux/if_tun.ts';

/**
 * Every feature the tap data plane supports whatever the kernel: the ring features, the control
 * queue family, MQ, and the device-side (HOST_*) offloads, which a tap with IFF_VNET_HDR always
 * takes (the kernel completes checksums and segments what we write, virtio_net_hdr_to_skb).
 */
const ALWAYS =
  featureBits(VIRTIO_F_VERSION_1, VIRTIO_F_EVENT_IDX, VIRTIO_F_INDIRECT_DESC, N.VIRTIO_NET_F_MRG_RXBUF) |
  featureBits(N.VIRTIO_NET_F_CSUM, N.VIRTIO_NET_F_HOST_TSO4, N.VIRTIO_NET_F_HOST_TSO6, N.VIRTIO_NET_F_HOST_ECN) |
  NET_CTRL_FEATURES |
  featureBits(N.VIRTIO_NET_F_MQ, N.VIRTIO_NET_F_MTU, N.VIRTIO_NET_F_STATUS, N.VIRTIO_NET_F_MAC);

/** Guest-side (receive) offloads, each needing the TUN_F_* bit that lets the tap hand such frames to us. */
const BY_TUN_FLAG: readonly (readonly [tunFlag: number, features: bigint])[] = [
  [TUN_F_CSUM, featureBit(N.VIRTIO_NET_F_GUEST_CSUM)],
  [TUN_F_TSO4, featureBit(N.VIRTIO_NET_F_GUEST_TSO4)],
  [TUN_F_TSO6, featureBit(N.VIRTIO_NET_F_GUEST_TSO6)],
  [TUN_F_TSO_ECN, featureBit(N.VIRTIO_NET_F_GUEST_ECN)],
  // As QEMU's tap_probe_has_ufo: UFO both ways only when the kernel still takes TUN_F_UFO.
  [TUN_F_UFO, featureBit(N.VIRTIO_NET_F_GUEST_UFO) | featureBit(N.VIRTIO_NET_F_HOST_UFO)],
];

/**
 * The feature set of the virtio-net tap backend for a tap whose TUNSETOFFLOAD accepts
 * `tunOffloads` (Tap.probeOffloads): VERSION_1, EVENT_IDX, INDIRECT_DESC, MRG_RXBUF, CSUM,
 * HOST_TSO4/6, HOST_ECN, the CTRL_* family, MQ, MTU, STATUS, GUEST_ANNOUNCE, MAC; GUEST_CSUM,
 * GUEST_TSO4/6 and GUEST_ECN when the tap can pass such frames up; HOST_UFO and GUEST_UFO only
 * when it takes TUN_F_UFO. NetDeviceBase intersects this with the NIC config and prunes.
 */
export function tapBackendFeatures(tunOffloads: number): bigint {
  let f = ALWAYS;
  if ((tunOffloads & TUN_F_CSUM) === 0) return f; // no receive offload works without TUN_F_CSUM
  for (const [flag, features] of BY_TUN_FLAG) if ((tunOffloads & flag) !== 0) f |= features;
  return f;
}
