/** The parameters of a packed virtqueue as the driver set it up (virtio 1.2 §2.8). */
export interface PackedQueueConfig {
  /** Queue size (number of descriptors in the ring), 1..32768; need not be a power of two. */
  readonly size: number;
  /** Guest-physical address of the Descriptor Ring (Descriptor Area, 16-aligned). */
  readonly descRing: number;
  /** Guest-physical address of the Driver Event Suppression structure (Driver Area, 4-aligned). */
  readonly driverEvent: number;
  /** Guest-physical address of the Device Event Suppression structure (Device Area, 4-aligned). */
  readonly deviceEvent: number;
  /** VIRTIO_F_EVENT_IDX was negotiated (RING_EVENT_FLAGS_DESC is valid). */
  readonly eventIdx: boolean;
  /** VIRTIO_F_INDIRECT_DESC was negotiated. */
  readonly indirectDesc: boolean;
  /** VIRTIO_F_IN_ORDER was negotiated: `addUsedBatch` may write one used descriptor per batch. */
  readonly inOrder: boolean;
}
