/** The parameters of a split virtqueue as the driver set it up (§2.7). */
export interface SplitQueueConfig {
  /** Queue size (number of descriptors), a power of two. */
  readonly size: number;
  /** Guest-physical address of the descriptor table. */
  readonly descTable: number;
  /** Guest-physical address of the available ring. */
  readonly availRing: number;
  /** Guest-physical address of the used ring. */
  readonly usedRing: number;
  /** VIRTIO_F_EVENT_IDX was negotiated. */
  readonly eventIdx: boolean;
  /** VIRTIO_F_INDIRECT_DESC was negotiated. */
  readonly indirectDesc: boolean;
}
