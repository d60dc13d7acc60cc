import { featureBit } from '../defs/virtio.ts';
import {
  VIRTIO_NET_F_GUEST_CSUM,
  VIRTIO_NET_F_GUEST_ECN,
  VIRTIO_NET_F_GUEST_TSO4,
  VIRTIO_NET_F_GUEST_TSO6,
  VIRTIO_NET_F_GUEST_UFO,
  VIRTIO_NET_F_GUEST_USO4,
  VIRTIO_NET_F_GUEST_USO6,
} from '../defs/virtio_net.ts';

const GUEST_OFFLOADS =
  featureBit(VIRTIO_NET_F_GUEST_CSUM) |
  featureBit(VIRTIO_NET_F_GUEST_TSO4) |
  featureBit(VIRTIO_NET_F_GUEST_TSO6) |
  featureBit(VIRTIO_NET_F_GUEST_ECN) |
  featureBit(VIRTIO_NET_F_GUEST_UFO) |
  featureBit(VIRTIO_NET_F_GUEST_USO4) |
  featureBit(VIRTIO_NET_F_GUEST_USO6);

/**
 * The guest (receive) offload bits of `features`: GUEST_CSUM, GUEST_TSO4/6, GUEST_ECN, GUEST_UFO,
 * GUEST_USO4/6, the bits VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET may switch (virtio 1.2 §5.1.6.5.6).
 */
export function guestOffloadFeatures(features: bigint): bigint {
  return features & GUEST_OFFLOADS;
}
