import { featureBit, VIRTIO_F_EVENT_IDX, VIRTIO_F_INDIRECT_DESC, VIRTIO_F_VERSION_1 } from '@vnic/core';
import { VIRTIO_NET_F_MRG_RXBUF } from '@vnic/core/virtio_net';

/**
 * The virtio features the kernel's vhost-net data plane decides (its VHOST_GET_FEATURES answer
 * masks them; VHOST_SET_FEATURES gets the acked subset): VERSION_1, MRG_RXBUF, EVENT_IDX,
 * INDIRECT_DESC. Offloads are the tap's business (tapBackendFeatures), the control queue vnic's.
 */
export const VHOST_NET_RING_FEATURES: bigint =
  featureBit(VIRTIO_F_VERSION_1) | featureBit(VIRTIO_NET_F_MRG_RXBUF) | featureBit(VIRTIO_F_EVENT_IDX) | featureBit(VIRTIO_F_INDIRECT_DESC);
