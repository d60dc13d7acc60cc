/** Control-queue counters of a device (every guest fault counted, never fatal). */
export interface NetCtrlCounters {
  /** Chains popped from the control queue. */
  readonly commands: number;
  /** Commands acked VIRTIO_NET_OK. */
  readonly ok: number;
  /** Commands acked VIRTIO_NET_ERR (malformed, not negotiated, out of range, refused by the backend). */
  readonly err: number;
  /** Commands that did not decode, were too large, or had no writable byte for the ack (used length 0). */
  readonly malformed: number;
}
