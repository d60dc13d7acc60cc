import type { NetCoalParams } from './NetCoalParams.ts';

/** One data queue's own parameters (VIRTIO_NET_CTRL_NOTF_COAL_VQ_SET), `vqn` its virtqueue index. */
export interface NetCoalVq extends NetCoalParams {
  readonly vqn: number;
}

/**
 * The coalescing parameters the driver set (virtio 1.3 §5.1.6.5.9): what TX_SET and RX_SET set for
 * every transmit / receive queue, and the queues VQ_SET gave parameters of their own since (the
 * last command for a queue wins: TX_SET / RX_SET drop the overrides of their direction). All zero
 * after reset.
 */
export interface NetNotfCoal {
  /** VIRTIO_NET_CTRL_NOTF_COAL_TX_SET. */
  readonly tx: NetCoalParams;
  /** VIRTIO_NET_CTRL_NOTF_COAL_RX_SET. */
  readonly rx: NetCoalParams;
  /** VIRTIO_NET_CTRL_NOTF_COAL_VQ_SET overrides, ascending `vqn`. */
  readonly vqs: readonly NetCoalVq[];
}
