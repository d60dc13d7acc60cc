/** Per-queue counters of a device (every guest fault counted, never fatal). */
export interface QueueStats {
  /** Queue index. */
  readonly index: number;
  /** Frames moved (received into the guest for RX queues, sent by the guest for TX queues). */
  readonly packets: number;
  /** Bytes moved, virtio_net_hdr excluded. */
  readonly bytes: number;
  /** Frames dropped by the device (too big, link down, backend error). */
  readonly drops: number;
  /** Chains that broke a validation rule and were returned with used length 0. */
  readonly malformed: number;
  /** Times the device had a frame for the guest but no RX buffer was available. */
  readonly noBuffer: number;
  /** Frames dropped by the RX filters (RX mode, MAC table, VLAN filter). */
  readonly filtered: number;
  /**
   * Times TX stopped because the backend had no room for a frame (a full tap send buffer) and
   * waited until it had, instead of dropping. Absent where the backend cannot report it.
   */
  readonly txWaits?: number;
  /** Times the queue's direction stopped because the NIC's rate limit had no tokens. Absent where the backend has no rate limit. */
  readonly throttled?: number;
  /** Bytes of the frames that waited for rate-limit tokens (each frame once). Absent where the backend has no rate limit. */
  readonly throttledBytes?: number;
}
