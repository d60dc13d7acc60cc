import { featureBit } from '../defs/virtio.ts';
import * as N from '../defs/virtio_net.ts';

const GUEST_OFFLOADS =
  featureBit(N.VIRTIO_NET_F_GUEST_CSUM) |
  featureBit(N.VIRTIO_NET_F_GUEST_TSO4) |
  featureBit(N.VIRTIO_NET_F_GUEST_TSO6) |
  featureBit(N.VIRTIO_NET_F_GUEST_ECN) |
  featureBit(N.VIRTIO_NET_F_GUEST_UFO) |
  featureBit(N.VIRTIO_NET_F_GUEST_USO4) |
  featureBit(N.VIRTIO_NET_F_GUEST_USO6);

/**
 * The guest (receive) offload bits of `features`: GUEST_CSUM, GUEST_TSO4/6, GUEST_ECN, GUEST_UFO,
 * GUEST_USO4/6, the bits VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET may switch (virtio 1.2 §5.1.6.5.6).
 */
export function guestOffloadFeatures(features: bigint): bigint {
  return features & GUEST_OFFLOADS;
}
