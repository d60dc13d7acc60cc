import type { PackedQueue } from './PackedQueue.ts';

/** The parameters of a packed virtqueue as the driver set it up (virtio 1.2 §2.8); each field is documented on PackedQueue. */
export type PackedQueueConfig = Pick<PackedQueue, 'size' | 'descRing' | 'driverEvent' | 'deviceEvent' | 'eventIdx' | 'indirectDesc' | 'inOrder'>;
