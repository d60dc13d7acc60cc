import {
  featureBits,
  NET_CTRL_FEATURES,
  NOTF_COAL_FEATURES,
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_INDIRECT_DESC,
  VIRTIO_F_IN_ORDER,
  VIRTIO_F_RING_PACKED,
  VIRTIO_F_VERSION_1,
  virtio_net as N,
} from '@vnic/core';

/**
 * Every feature this driver implements; `features` in the options is intersected with it. The
 * control-queue family is core's {@link NET_CTRL_FEATURES} (+ NOTF_COAL, VQ_NOTF_COAL); MQ is listed apart.
 * RING_PACKED is asked for only with the tuning's `ring: 'packed'`, IN_ORDER only with `inOrder: true`.
 */
export const DRIVER_FEATURES: bigint =
  featureBits(
    VIRTIO_F_VERSION_1,
    VIRTIO_F_EVENT_IDX,
    VIRTIO_F_INDIRECT_DESC,
    VIRTIO_F_RING_PACKED,
    VIRTIO_F_IN_ORDER,
    N.VIRTIO_NET_F_MAC,
    N.VIRTIO_NET_F_STATUS,
    N.VIRTIO_NET_F_MTU,
    N.VIRTIO_NET_F_MRG_RXBUF,
    N.VIRTIO_NET_F_CSUM,
    N.VIRTIO_NET_F_GUEST_CSUM,
    N.VIRTIO_NET_F_HOST_TSO4,
    N.VIRTIO_NET_F_HOST_TSO6,
    N.VIRTIO_NET_F_HOST_ECN,
    N.VIRTIO_NET_F_HOST_UFO,
    N.VIRTIO_NET_F_GUEST_TSO4,
    N.VIRTIO_NET_F_GUEST_TSO6,
    N.VIRTIO_NET_F_GUEST_ECN,
    N.VIRTIO_NET_F_GUEST_UFO,
    N.VIRTIO_NET_F_MQ,
  ) |
  NET_CTRL_FEATURES |
  NOTF_COAL_FEATURES;
