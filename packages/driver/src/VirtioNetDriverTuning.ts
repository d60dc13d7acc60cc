import type { RingLayout } from './RingLayout.ts';
import type { TxLayout } from './TxLayout.ts';

/** How the driver sets a device up: the choices a guest kernel's virtio_net makes. */
export interface VirtioNetDriverTuning {
  /** Features to ask for (intersected with the device's offer and DRIVER_FEATURES). Default: all. */
  readonly features?: bigint;
  /** Queue pairs to use (default: every pair the device offers). */
  readonly queuePairs?: number;
  /** Queue size (default: min(256, QueueNumMax)). */
  readonly queueSize?: number;
  /** RX buffer size with MRG_RXBUF (default 2048). Without MRG_RXBUF: 65562 with guest GSO, else 1526. */
  readonly rxBufferSize?: number;
  /** Descriptor layout of transmitted frames (default `single`: header and frame in one buffer). */
  readonly txLayout?: TxLayout;
  /** Ring layout (default `split`); `packed` needs the device to offer VIRTIO_F_RING_PACKED. */
  readonly ring?: RingLayout;
  /**
   * Ask for VIRTIO_F_IN_ORDER (default false, as Linux 6.1's virtio_net: it does not know the bit);
   * true needs the device to offer it: the driver then hands descriptors out in ring order and
   * expands a used entry that stands for a batch.
   */
  readonly inOrder?: boolean;
  /** RX buffers to post per receive queue (default: the queue size). */
  readonly rxBuffers?: number;
}
