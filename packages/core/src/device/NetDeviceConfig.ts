import type { NetRateLimit } from '../ratelimit/NetRateLimit.ts';
import type { NetCoalescing } from './NetCoalescing.ts';
import type { NetOffloads } from './NetOffloads.ts';

/** One validated `net[]` entry of a VM config: what a backend provider builds a device from. */
export interface NetDeviceConfig {
  /** Unique NIC id within the VM (used in names, logs and errors). */
  readonly id: string;
  /** Backend name: `virtio-net`, `vhost-net`, `vhost-user`, or one a VMM registered. */
  readonly backend: string;
  /** MAC address, six bytes. */
  readonly mac: Uint8Array;
  /** Number of RX/TX queue pairs (more than 1 offers VIRTIO_NET_F_MQ). */
  readonly queuePairs: number;
  /** Maximum queue size offered to the driver (power of two, 2..32768). */
  readonly queueSize: number;
  /** MTU advertised with VIRTIO_NET_F_MTU, when set. */
  readonly mtu?: number;
  /** Offload switches. */
  readonly offloads: NetOffloads;
  /** Offer VIRTIO_NET_F_MRG_RXBUF. */
  readonly mrgRxbuf: boolean;
  /** Offer VIRTIO_F_EVENT_IDX. */
  readonly eventIdx: boolean;
  /** Offer VIRTIO_F_INDIRECT_DESC. */
  readonly indirectDesc: boolean;
  /** Offer the control queue (VIRTIO_NET_F_CTRL_VQ and the CTRL_* features). */
  readonly ctrlVq: boolean;
  /** Rate limits per direction (only backends with vnic on the data path take them). */
  readonly rateLimit?: NetRateLimit;
  /** The VMM's notification coalescing (backends whose data plane is vnic's only). */
  readonly coalescing?: NetCoalescing;
  /** The backend-specific section (`entry[backend]` in the JSON), validated by the provider. */
  readonly options: Readonly<Record<string, unknown>>;
}
