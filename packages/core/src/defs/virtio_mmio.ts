/**
 * virtio-mmio register map, names as in linux/virtio_mmio.h, layout as in the virtio 1.2
 * specification §4.2.2 (MMIO Device Register Layout, version 2 only: no legacy registers).
 */

/** §4.2.2 Magic value, "virt" little-endian - read only. */
export const VIRTIO_MMIO_MAGIC_VALUE = 0x000;
/** §4.2.2 Device version number (2) - read only. */
export const VIRTIO_MMIO_VERSION = 0x004;
/** §4.2.2 virtio subsystem device id - read only. */
export const VIRTIO_MMIO_DEVICE_ID = 0x008;
/** §4.2.2 virtio subsystem vendor id - read only. */
export const VIRTIO_MMIO_VENDOR_ID = 0x00c;
/** §4.2.2 32 device feature bits selected by DeviceFeaturesSel - read only. */
export const VIRTIO_MMIO_DEVICE_FEATURES = 0x010;
/** §4.2.2 Device features word selection - write only. */
export const VIRTIO_MMIO_DEVICE_FEATURES_SEL = 0x014;
/** §4.2.2 32 driver feature bits selected by DriverFeaturesSel - write only. */
export const VIRTIO_MMIO_DRIVER_FEATURES = 0x020;
/** §4.2.2 Driver features word selection - write only. */
export const VIRTIO_MMIO_DRIVER_FEATURES_SEL = 0x024;
/** §4.2.2 Virtual queue index - write only. */
export const VIRTIO_MMIO_QUEUE_SEL = 0x030;
/** §4.2.2 Maximum size of the selected queue, 0 when it does not exist - read only. */
export const VIRTIO_MMIO_QUEUE_NUM_MAX = 0x034;
/** §4.2.2 Size of the selected queue - write only. */
export const VIRTIO_MMIO_QUEUE_NUM = 0x038;
/** §4.2.2 Ready bit of the selected queue - read write. */
export const VIRTIO_MMIO_QUEUE_READY = 0x044;
/** §4.2.2 Queue notifier (the queue index without VIRTIO_F_NOTIFICATION_DATA) - write only. */
export const VIRTIO_MMIO_QUEUE_NOTIFY = 0x050;
/** §4.2.2 Interrupt status - read only. */
export const VIRTIO_MMIO_INTERRUPT_STATUS = 0x060;
/** §4.2.2 Interrupt acknowledge - write only. */
export const VIRTIO_MMIO_INTERRUPT_ACK = 0x064;
/** §4.2.2 Device status - read write; writing 0 resets the device. */
export const VIRTIO_MMIO_STATUS = 0x070;
/** §4.2.2 Descriptor Area address of the selected queue, low 32 bits - write only. */
export const VIRTIO_MMIO_QUEUE_DESC_LOW = 0x080;
/** §4.2.2 Descriptor Area address of the selected queue, high 32 bits - write only. */
export const VIRTIO_MMIO_QUEUE_DESC_HIGH = 0x084;
/** §4.2.2 Driver Area (available ring) address, low 32 bits - write only. */
export const VIRTIO_MMIO_QUEUE_AVAIL_LOW = 0x090;
/** §4.2.2 Driver Area (available ring) address, high 32 bits - write only. */
export const VIRTIO_MMIO_QUEUE_AVAIL_HIGH = 0x094;
/** §4.2.2 Device Area (used ring) address, low 32 bits - write only. */
export const VIRTIO_MMIO_QUEUE_USED_LOW = 0x0a0;
/** §4.2.2 Device Area (used ring) address, high 32 bits - write only. */
export const VIRTIO_MMIO_QUEUE_USED_HIGH = 0x0a4;
/** §4.2.2 Shared memory region id - write only. */
export const VIRTIO_MMIO_SHM_SEL = 0x0ac;
/** §4.2.2 Length of the selected shared memory region, low 32 bits (-1: no region) - read only. */
export const VIRTIO_MMIO_SHM_LEN_LOW = 0x0b0;
/** §4.2.2 Length of the selected shared memory region, high 32 bits - read only. */
export const VIRTIO_MMIO_SHM_LEN_HIGH = 0x0b4;
/** §4.2.2 Base address of the selected shared memory region, low 32 bits - read only. */
export const VIRTIO_MMIO_SHM_BASE_LOW = 0x0b8;
/** §4.2.2 Base address of the selected shared memory region, high 32 bits - read only. */
export const VIRTIO_MMIO_SHM_BASE_HIGH = 0x0bc;
/** §4.2.2 Reset bit of the selected queue (VIRTIO_F_RING_RESET) - read write. */
export const VIRTIO_MMIO_QUEUE_RESET = 0x0c0;
/** §4.2.2 Configuration atomicity value - read only. */
export const VIRTIO_MMIO_CONFIG_GENERATION = 0x0fc;
/** §4.2.2 Device-specific configuration space starts here - read write. */
export const VIRTIO_MMIO_CONFIG = 0x100;

/** §4.2.2 The value of MagicValue: "virt" as a little-endian u32. */
export const VIRTIO_MMIO_MAGIC = 0x74726976;
/** §4.2.2 The value of Version for a non-legacy device. */
export const VIRTIO_MMIO_VERSION_2 = 2;
/** §4.2.2 InterruptStatus bit 0: the device used a buffer. */
export const VIRTIO_MMIO_INT_VRING = 1;
/** §4.2.2 InterruptStatus bit 1: the configuration changed. */
export const VIRTIO_MMIO_INT_CONFIG = 2;
