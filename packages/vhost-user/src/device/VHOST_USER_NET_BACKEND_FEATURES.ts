import {
  VIRTIO_F_ACCESS_PLATFORM,
  VIRTIO_F_ANY_LAYOUT,
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_INDIRECT_DESC,
  VIRTIO_F_IN_ORDER,
  VIRTIO_F_NOTIFY_ON_EMPTY,
  VIRTIO_F_RING_PACKED,
  VIRTIO_F_VERSION_1,
  featureBit,
  virtio_net,
} from '@vnic/core';

const N = virtio_net;

/**
 * The virtio features the vhost-user backend's data plane decides (as QEMU's vhost-user-net
 * `user_feature_bits`): they are offered to the guest only when the backend offers them, and the
 * acked ones are sent with SET_FEATURES. Every other feature (MAC, STATUS, MTU, the control queue
 * and its CTRL_* commands, GUEST_ANNOUNCE) is implemented by vnic in the VMM and never sent.
 */
export const VHOST_USER_NET_BACKEND_FEATURES: bigint = [
  VIRTIO_F_VERSION_1,
  VIRTIO_F_NOTIFY_ON_EMPTY,
  VIRTIO_F_ANY_LAYOUT,
  VIRTIO_F_INDIRECT_DESC,
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_ACCESS_PLATFORM,
  VIRTIO_F_RING_PACKED,
  VIRTIO_F_IN_ORDER,
  N.VIRTIO_NET_F_CSUM,
  N.VIRTIO_NET_F_GUEST_CSUM,
  N.VIRTIO_NET_F_CTRL_GUEST_OFFLOADS,
  N.VIRTIO_NET_F_GSO,
  N.VIRTIO_NET_F_GUEST_TSO4,
  N.VIRTIO_NET_F_GUEST_TSO6,
  N.VIRTIO_NET_F_GUEST_ECN,
  N.VIRTIO_NET_F_GUEST_UFO,
  N.VIRTIO_NET_F_HOST_TSO4,
  N.VIRTIO_NET_F_HOST_TSO6,
  N.VIRTIO_NET_F_HOST_ECN,
  N.VIRTIO_NET_F_HOST_UFO,
  N.VIRTIO_NET_F_MRG_RXBUF,
  N.VIRTIO_NET_F_MQ,
  N.VIRTIO_NET_F_GUEST_USO4,
  N.VIRTIO_NET_F_GUEST_USO6,
  N.VIRTIO_NET_F_HOST_USO,
  N.VIRTIO_NET_F_HASH_REPORT,
  N.VIRTIO_NET_F_RSS,
  N.VIRTIO_NET_F_NOTF_COAL, // the backend's data plane sends the notifications: it would have to coalesce them
  N.VIRTIO_NET_F_VQ_NOTF_COAL,
].reduce((m, b) => m | featureBit(b), 0n);
