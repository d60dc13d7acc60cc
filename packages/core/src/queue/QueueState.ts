/**
 * Ring positions of one virtqueue: what reset() returns and activate() can resume from.
 *
 * Split ring (§2.7): free-running u16 indices, no wrap counters. Packed ring (§2.8): descriptor
 * positions in [0, size) plus the device's copies of the two ring wrap counters; absent wrap
 * counters mean 1 (the value both sides start with), so a split-ring state read as a packed one
 * describes a fresh packed ring at those positions.
 */
export interface QueueState {
  /** Split: index in the avail ring of the next chain to pop (`last_avail_idx`). Packed: position of the next descriptor to read. */
  readonly nextAvail: number;
  /** Split: value of used->idx published next (`used_idx`). Packed: position of the next used descriptor to write. */
  readonly nextUsed: number;
  /** Packed only: the Driver Ring Wrap Counter the next available descriptor carries (`last_avail_wrap_counter`). */
  readonly availWrap?: boolean;
  /** Packed only: the Device Ring Wrap Counter (`used_wrap_counter`). */
  readonly usedWrap?: boolean;
  /**
   * Receive queues: frames the device had taken in (off its tap) but had no guest buffer for when
   * it stopped, oldest first, each with its 12-byte virtio_net_hdr. The next data plane on the
   * ring delivers them before anything else (the in-process backend does; a kernel or vhost-user
   * backend cannot inject them).
   */
  readonly rxBacklog?: readonly Uint8Array[];
}
