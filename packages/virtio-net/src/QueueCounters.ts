/** The counters an IO thread keeps per queue (QueueStats without the index), plain mutable numbers. */
export interface QueueCounters {
  /** Frames moved. */
  packets: number;
  /** Frame bytes moved (virtio_net_hdr excluded). */
  bytes: number;
  /** Frames dropped (too short or too long, link down, truncated, tap error). */
  drops: number;
  /** Chains that broke a validation rule. */
  malformed: number;
  /** Times a frame waited for the guest to post RX buffers. */
  noBuffer: number;
  /** Frames the RX filter rejected. */
  filtered: number;
  /** Times TX stopped because the tap had no room (EAGAIN, ENOBUFS) and waited for it to be writable. */
  txWaits: number;
}
