import type { DriverQueue, PackedDriverQueue } from '@vnic/core';

/** The driver side of one virtqueue in the layout negotiated: split (DriverQueue) or packed (PackedDriverQueue, VIRTIO_F_RING_PACKED). */
export type DriverRing = DriverQueue | PackedDriverQueue;
