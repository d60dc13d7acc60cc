import { featureBits } from '../defs/featureBits.ts';
import * as N from '../defs/virtio_net.ts';

/**
 * The control-queue family, in bit order: CTRL_GUEST_OFFLOADS, CTRL_VQ, CTRL_RX, CTRL_VLAN,
 * CTRL_RX_EXTRA, GUEST_ANNOUNCE, CTRL_MAC_ADDR. A device offers them together with a control queue
 * (NetDeviceConfig `ctrlVq`); MQ, which also needs CTRL_VQ, is offered apart (more than one pair).
 */
export const NET_CTRL_FEATURES: bigint = featureBits(
  N.VIRTIO_NET_F_CTRL_GUEST_OFFLOADS,
  N.VIRTIO_NET_F_CTRL_VQ,
  N.VIRTIO_NET_F_CTRL_RX,
  N.VIRTIO_NET_F_CTRL_VLAN,
  N.VIRTIO_NET_F_CTRL_RX_EXTRA,
  N.VIRTIO_NET_F_GUEST_ANNOUNCE,
  N.VIRTIO_NET_F_CTRL_MAC_ADDR,
);
