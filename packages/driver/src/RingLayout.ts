/** Which virtqueue layout the driver asks for: `split` (virtio 1.2 §2.7) or `packed` (§2.8, VIRTIO_F_RING_PACKED). */
export type RingLayout = 'split' | 'packed';
