import { featureBit, VIRTIO_F_EVENT_IDX, VIRTIO_F_INDIRECT_DESC, VIRTIO_F_VERSION_1 } from '../defs/virtio.ts';
import {
  VIRTIO_NET_F_CSUM,
  VIRTIO_NET_F_CTRL_GUEST_OFFLOADS,
  VIRTIO_NET_F_CTRL_MAC_ADDR,
  VIRTIO_NET_F_CTRL_RX,
  VIRTIO_NET_F_CTRL_RX_EXTRA,
  VIRTIO_NET_F_CTRL_VLAN,
  VIRTIO_NET_F_CTRL_VQ,
  VIRTIO_NET_F_GUEST_ANNOUNCE,
  VIRTIO_NET_F_GUEST_CSUM,
  VIRTIO_NET_F_GUEST_ECN,
  VIRTIO_NET_F_GUEST_TSO4,
  VIRTIO_NET_F_GUEST_TSO6,
  VIRTIO_NET_F_GUEST_UFO,
  VIRTIO_NET_F_HOST_ECN,
  VIRTIO_NET_F_HOST_TSO4,
  VIRTIO_NET_F_HOST_TSO6,
  VIRTIO_NET_F_HOST_UFO,
  VIRTIO_NET_F_MAC,
  VIRTIO_NET_F_MQ,
  VIRTIO_NET_F_MRG_RXBUF,
  VIRTIO_NET_F_MTU,
  VIRTIO_NET_F_STATUS,
} from '../defs/virtio_net.ts';
import type { NetDeviceConfig } from '../device/NetDeviceConfig.ts';
import type { NetOffloads } from '../device/NetOffloads.ts';
import { offeredQueuePairs } from './offeredQueuePairs.ts';
import { pruneNetFeatures } from './pruneNetFeatures.ts';

const OFFLOAD_BITS: readonly (readonly [keyof NetOffloads, number])[] = [
  ['csum', VIRTIO_NET_F_CSUM],
  ['guestCsum', VIRTIO_NET_F_GUEST_CSUM],
  ['hostTso4', VIRTIO_NET_F_HOST_TSO4],
  ['hostTso6', VIRTIO_NET_F_HOST_TSO6],
  ['hostEcn', VIRTIO_NET_F_HOST_ECN],
  ['hostUfo', VIRTIO_NET_F_HOST_UFO],
  ['guestTso4', VIRTIO_NET_F_GUEST_TSO4],
  ['guestTso6', VIRTIO_NET_F_GUEST_TSO6],
  ['guestEcn', VIRTIO_NET_F_GUEST_ECN],
  ['guestUfo', VIRTIO_NET_F_GUEST_UFO],
];

const CTRL_FEATURES = [
  VIRTIO_NET_F_CTRL_VQ,
  VIRTIO_NET_F_CTRL_RX,
  VIRTIO_NET_F_CTRL_RX_EXTRA,
  VIRTIO_NET_F_CTRL_VLAN,
  VIRTIO_NET_F_CTRL_MAC_ADDR,
  VIRTIO_NET_F_GUEST_ANNOUNCE,
  VIRTIO_NET_F_CTRL_GUEST_OFFLOADS,
];

/**
 * The features vnic implements for a NIC with this config, before the backend's mask: VERSION_1,
 * MAC, STATUS; MTU when set; MRG_RXBUF, EVENT_IDX, INDIRECT_DESC when enabled; the control-queue
 * family (CTRL_VQ, CTRL_RX, CTRL_RX_EXTRA, CTRL_VLAN, CTRL_MAC_ADDR, GUEST_ANNOUNCE,
 * CTRL_GUEST_OFFLOADS) with `ctrlVq`, MQ with `ctrlVq` and more than one pair; one bit per offload
 * switch. Dependencies are pruned (HOST_TSO4 without CSUM is not offered).
 */
export function netDeviceFeatures(config: NetDeviceConfig): bigint {
  let f = featureBit(VIRTIO_F_VERSION_1) | featureBit(VIRTIO_NET_F_MAC) | featureBit(VIRTIO_NET_F_STATUS);
  if (config.mtu !== undefined) f |= featureBit(VIRTIO_NET_F_MTU);
  if (config.mrgRxbuf) f |= featureBit(VIRTIO_NET_F_MRG_RXBUF);
  if (config.eventIdx) f |= featureBit(VIRTIO_F_EVENT_IDX);
  if (config.indirectDesc) f |= featureBit(VIRTIO_F_INDIRECT_DESC);
  if (config.ctrlVq) for (const b of CTRL_FEATURES) f |= featureBit(b);
  if (offeredQueuePairs(config) > 1) f |= featureBit(VIRTIO_NET_F_MQ);
  for (const [key, bit] of OFFLOAD_BITS) if (config.offloads[key]) f |= featureBit(bit);
  return pruneNetFeatures(f);
}
