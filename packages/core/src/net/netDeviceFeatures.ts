import { featureBit, VIRTIO_F_EVENT_IDX, VIRTIO_F_IN_ORDER, VIRTIO_F_INDIRECT_DESC, VIRTIO_F_RING_PACKED, VIRTIO_F_VERSION_1 } from '../defs/virtio.ts';
import * as N from '../defs/virtio_net.ts';
import type { NetDeviceConfig } from '../device/NetDeviceConfig.ts';
import type { NetOffloads } from '../device/NetOffloads.ts';
import { NET_CTRL_FEATURES } from './NET_CTRL_FEATURES.ts';
import { NOTF_COAL_FEATURES } from './NOTF_COAL_FEATURES.ts';
import { offeredQueuePairs } from './offeredQueuePairs.ts';
import { pruneNetFeatures } from './pruneNetFeatures.ts';

const OFFLOAD_BITS: readonly (readonly [keyof NetOffloads, number])[] = [
  ['csum', N.VIRTIO_NET_F_CSUM],
  ['guestCsum', N.VIRTIO_NET_F_GUEST_CSUM],
  ['hostTso4', N.VIRTIO_NET_F_HOST_TSO4],
  ['hostTso6', N.VIRTIO_NET_F_HOST_TSO6],
  ['hostEcn', N.VIRTIO_NET_F_HOST_ECN],
  ['hostUfo', N.VIRTIO_NET_F_HOST_UFO],
  ['guestTso4', N.VIRTIO_NET_F_GUEST_TSO4],
  ['guestTso6', N.VIRTIO_NET_F_GUEST_TSO6],
  ['guestEcn', N.VIRTIO_NET_F_GUEST_ECN],
  ['guestUfo', N.VIRTIO_NET_F_GUEST_UFO],
];

/**
 * The features vnic implements for a NIC with this config, before the backend's mask: VERSION_1,
 * MAC, STATUS, RING_PACKED (the guest chooses the ring layout; the backend's mask keeps it only
 * where its data plane speaks it), IN_ORDER (likewise: kept where the queues hand buffers back in
 * the order they were made available); MTU when set; MRG_RXBUF, EVENT_IDX, INDIRECT_DESC when enabled; the control-queue
 * family (CTRL_VQ, CTRL_RX, CTRL_RX_EXTRA, CTRL_VLAN, CTRL_MAC_ADDR, GUEST_ANNOUNCE,
 * CTRL_GUEST_OFFLOADS, and NOTF_COAL + VQ_NOTF_COAL, which the backend's mask keeps only when its
 * data plane coalesces) with `ctrlVq`, MQ with `ctrlVq` and more than one pair; one bit per offload
 * switch. Dependencies are pruned (HOST_TSO4 without CSUM is not offered).
 */
export function netDeviceFeatures(config: NetDeviceConfig): bigint {
  let f =
    featureBit(VIRTIO_F_VERSION_1) |
    featureBit(N.VIRTIO_NET_F_MAC) |
    featureBit(N.VIRTIO_NET_F_STATUS) |
    featureBit(VIRTIO_F_RING_PACKED) |
    featureBit(VIRTIO_F_IN_ORDER);
  if (config.mtu !== undefined) f |= featureBit(N.VIRTIO_NET_F_MTU);
  if (config.mrgRxbuf) f |= featureBit(N.VIRTIO_NET_F_MRG_RXBUF);
  if (config.eventIdx) f |= featureBit(VIRTIO_F_EVENT_IDX);
  if (config.indirectDesc) f |= featureBit(VIRTIO_F_INDIRECT_DESC);
  if (config.ctrlVq) f |= NET_CTRL_FEATURES | NOTF_COAL_FEATURES;
  if (offeredQueuePairs(config) > 1) f |= featureBit(N.VIRTIO_NET_F_MQ);
  for (const [key, bit] of OFFLOAD_BITS) if (config.offloads[key]) f |= featureBit(bit);
  return pruneNetFeatures(f);
}
