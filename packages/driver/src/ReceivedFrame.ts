import type { VirtioNetHdr } from '@vnic/core';

/** A frame the driver took from a receive queue. */
export interface ReceivedFrame {
  /** The virtio_net_hdr the device wrote (num_buffers included). */
  readonly hdr: VirtioNetHdr;
  /** The Ethernet frame (copied out of guest memory). */
  readonly frame: Uint8Array;
  /** Number of RX buffers it spanned (num_buffers with MRG_RXBUF, else 1). */
  readonly buffers: number;
  /** Queue pair it arrived on. */
  readonly queuePair: number;
}
