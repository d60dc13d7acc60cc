/**
 * `struct virtio_net_ctrl_coal` (virtio 1.3 §5.1.6.5.9): notify after `maxPackets` frames or
 * `maxUsecs` microseconds since the first frame not yet notified, whichever is first; either
 * one 0 means a notification per frame (coalescing off).
 */
export interface NetCoalParams {
  /** le32 max_packets. */
  readonly maxPackets: number;
  /** le32 max_usecs. */
  readonly maxUsecs: number;
}
