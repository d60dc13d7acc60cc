import type { NetDeviceConfig } from '../device/NetDeviceConfig.ts';

/**
 * Queue pairs a NIC built from `config` can offer the guest: `queuePairs` when it has the control
 * queue (VIRTIO_NET_F_MQ needs VIRTIO_NET_F_CTRL_VQ, virtio 1.2 §5.1.3.1), 1 otherwise. A tap
 * backend opens one tap queue (and vhost-net one vhost fd) per offered pair.
 */
export function offeredQueuePairs(config: NetDeviceConfig): number {
  return config.ctrlVq && config.queuePairs > 1 ? config.queuePairs : 1;
}
