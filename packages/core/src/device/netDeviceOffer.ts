import { hasFeature, VIRTIO_F_VERSION_1, VIRTQ_MAX_SIZE } from '../defs/virtio.ts';
import { VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MAX, VIRTIO_NET_F_CTRL_VQ, VIRTIO_NET_F_MQ } from '../defs/virtio_net.ts';
import { VnicError } from '../errors/VnicError.ts';
import { netDeviceFeatures } from '../net/netDeviceFeatures.ts';
import { pruneNetFeatures } from '../net/pruneNetFeatures.ts';
import type { NetDeviceConfig } from './NetDeviceConfig.ts';

/** What a device offers for one NIC config and backend. */
export interface NetDeviceOffer {
  /** netDeviceFeatures(config) AND the backend's features, dependencies pruned. */
  readonly deviceFeatures: bigint;
  /** The configured queue pairs when MQ is offered, else 1. */
  readonly queuePairs: number;
  /** 2 * queuePairs, plus 1 when CTRL_VQ is offered. */
  readonly numQueues: number;
}

/**
 * The feature offer of a NIC: checks the config (6-byte MAC, queue pairs, power-of-two queue
 * size, MTU), intersects what vnic implements for it with what the backend supports, prunes
 * again (the backend mask can remove a feature another one requires, §2.2.1) and requires
 * VIRTIO_F_VERSION_1. Throws VnicError `invalid-argument` naming the field, `unsupported` when
 * the backend lacks VERSION_1.
 */
export function netDeviceOffer(config: NetDeviceConfig, backendFeatures: bigint): NetDeviceOffer {
  validateNetDeviceConfig(config);
  const deviceFeatures = pruneNetFeatures(netDeviceFeatures(config) & backendFeatures);
  if (!hasFeature(deviceFeatures, VIRTIO_F_VERSION_1)) {
    throw new VnicError(
      'unsupported',
      `${config.id}: backend ${config.backend} does not support VIRTIO_F_VERSION_1; vnic only drives modern (virtio 1.x) devices`,
    );
  }
  const queuePairs = hasFeature(deviceFeatures, VIRTIO_NET_F_MQ) ? config.queuePairs : 1;
  return { deviceFeatures, queuePairs, numQueues: 2 * queuePairs + (hasFeature(deviceFeatures, VIRTIO_NET_F_CTRL_VQ) ? 1 : 0) };
}

function validateNetDeviceConfig(c: NetDeviceConfig): void {
  const bad = (msg: string): never => {
    throw new VnicError('invalid-argument', `${c.id}: ${msg}`);
  };
  if (!(c.mac instanceof Uint8Array) || c.mac.length !== 6) bad('mac must be 6 bytes');
  if (!Number.isInteger(c.queuePairs) || c.queuePairs < 1 || c.queuePairs > VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MAX) {
    bad(`queuePairs ${c.queuePairs} is outside 1..${VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MAX}`);
  }
  if (!Number.isInteger(c.queueSize) || c.queueSize < 2 || c.queueSize > VIRTQ_MAX_SIZE || (c.queueSize & (c.queueSize - 1)) !== 0) {
    bad(`queueSize ${c.queueSize} is not a power of two between 2 and ${VIRTQ_MAX_SIZE}`);
  }
  if (c.mtu !== undefined && (!Number.isInteger(c.mtu) || c.mtu < 68 || c.mtu > 65535)) bad(`mtu ${c.mtu} is outside 68..65535`);
}
