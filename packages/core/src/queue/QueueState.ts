/** Ring positions of one split virtqueue: what reset() returns and activate() can resume from. */
export interface QueueState {
  /** Index in the avail ring of the next chain the device will pop (`last_avail_idx`). */
  readonly nextAvail: number;
  /** Value of used->idx the device will publish next (`used_idx`). */
  readonly nextUsed: number;
}
