/**
 * Transport-level virtio definitions, names as in the virtio 1.2 specification
 * (§2.1 device status field, §6 reserved feature bits, §2.7 split virtqueues, §2.8 packed virtqueues).
 */

/** §2.1 Indicates that the guest OS has found the device. */
export const VIRTIO_CONFIG_S_ACKNOWLEDGE = 1;
/** §2.1 The guest OS knows how to drive the device. */
export const VIRTIO_CONFIG_S_DRIVER = 2;
/** §2.1 The driver is set up and ready to drive the device. */
export const VIRTIO_CONFIG_S_DRIVER_OK = 4;
/** §2.1 The driver has acknowledged all the features it understands. */
export const VIRTIO_CONFIG_S_FEATURES_OK = 8;
/** §2.1 The device has experienced an error from which it can't recover. */
export const VIRTIO_CONFIG_S_NEEDS_RESET = 0x40;
/** §2.1 Something went wrong in the guest; it has given up on the device. */
export const VIRTIO_CONFIG_S_FAILED = 0x80;

/** §6 Negotiating this feature indicates the driver can use notification-on-empty (legacy). */
export const VIRTIO_F_NOTIFY_ON_EMPTY = 24;
/** §6 The device accepts arbitrary descriptor layouts (legacy). */
export const VIRTIO_F_ANY_LAYOUT = 27;
/** §6 The driver can use descriptors with VIRTQ_DESC_F_INDIRECT set. */
export const VIRTIO_F_INDIRECT_DESC = 28;
/** §6 Enables the used_event and avail_event fields. */
export const VIRTIO_F_EVENT_IDX = 29;
/** §6 Compliance with the virtio 1.x specification. */
export const VIRTIO_F_VERSION_1 = 32;
/** §6 The device can be used on a platform where device access is limited (IOMMU). */
export const VIRTIO_F_ACCESS_PLATFORM = 33;
/** §6 Support for the packed virtqueue layout. */
export const VIRTIO_F_RING_PACKED = 34;
/** §6 All buffers are used by the device in the same order as made available. */
export const VIRTIO_F_IN_ORDER = 35;
/** §6 Memory accesses are ordered in a platform-specific way. */
export const VIRTIO_F_ORDER_PLATFORM = 36;
/** §6 The device supports single root I/O virtualization. */
export const VIRTIO_F_SR_IOV = 37;
/** §6 The driver passes extra data in its device notifications. */
export const VIRTIO_F_NOTIFICATION_DATA = 38;
/** §6 The driver uses the data provided by the device as a virtqueue identifier. */
export const VIRTIO_F_NOTIF_CONFIG_DATA = 39;
/** §6 The driver can reset a queue individually. */
export const VIRTIO_F_RING_RESET = 40;

/** §2.7.5 This marks a buffer as continuing via the next field. */
export const VIRTQ_DESC_F_NEXT = 1;
/** §2.7.5 This marks a buffer as device write-only (otherwise device read-only). */
export const VIRTQ_DESC_F_WRITE = 2;
/** §2.7.5.3 This means the buffer contains a list of buffer descriptors. */
export const VIRTQ_DESC_F_INDIRECT = 4;
/** §2.7.6 The driver does not want an interrupt when the device consumes a buffer. */
export const VIRTQ_AVAIL_F_NO_INTERRUPT = 1;
/** §2.7.8 The device does not want a notification when the driver adds a buffer. */
export const VIRTQ_USED_F_NO_NOTIFY = 1;

/** §2.7 Largest queue size a split virtqueue may have. */
export const VIRTQ_MAX_SIZE = 32768;
/** §2.7.5 Size in bytes of one descriptor (`struct virtq_desc`). */
export const VIRTQ_DESC_SIZE = 16;
/** §2.7 Alignment of the descriptor table. */
export const VIRTQ_DESC_ALIGN = 16;
/** §2.7 Alignment of the available ring. */
export const VIRTQ_AVAIL_ALIGN = 2;
/** §2.7 Alignment of the used ring. */
export const VIRTQ_USED_ALIGN = 4;

/** §2.8.1 Packed ring: the driver marks a descriptor available (matches its wrap counter). */
export const VIRTQ_DESC_F_AVAIL = 1 << 7;
/** §2.8.1 Packed ring: the device marks a descriptor used (matches its wrap counter). */
export const VIRTQ_DESC_F_USED = 1 << 15;
/** §2.8.10 Event suppression flags: enable events. */
export const RING_EVENT_FLAGS_ENABLE = 0x0;
/** §2.8.10 Event suppression flags: disable events. */
export const RING_EVENT_FLAGS_DISABLE = 0x1;
/** §2.8.10 Event suppression flags: events for one descriptor (offset + wrap), with VIRTIO_F_EVENT_IDX only. */
export const RING_EVENT_FLAGS_DESC = 0x2;
/** Bit of `desc_event_off_wrap` holding the wrap counter (linux/virtio_ring.h VRING_PACKED_EVENT_F_WRAP_CTR). */
export const VRING_PACKED_EVENT_F_WRAP_CTR = 15;
/** §2.8 Largest queue size a packed virtqueue may have (any size from 1, not only powers of two). */
export const VIRTQ_PACKED_MAX_SIZE = 32768;
/** §2.8.10.1 Alignment of the descriptor ring of a packed virtqueue. */
export const VIRTQ_PACKED_DESC_ALIGN = 16;
/** §2.8.10.1 Alignment (and size) of a packed virtqueue's event suppression structures. */
export const VIRTQ_PACKED_EVENT_ALIGN = 4;

/** §5 Device ID of a network card. */
export const VIRTIO_ID_NET = 1;

/** Returns the feature mask with bit `n` set. */
export function featureBit(n: number): bigint {
  return 1n << BigInt(n);
}

/** True when feature bit `n` is set in `features`. */
export function hasFeature(features: bigint, n: number): boolean {
  return (features & (1n << BigInt(n))) !== 0n;
}
