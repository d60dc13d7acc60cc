import type { SplitQueue } from './SplitQueue.ts';

/** The parameters of a split virtqueue as the driver set it up (virtio 1.2 §2.7); each field is documented on SplitQueue (`inOrder` defaults to false). */
export type SplitQueueConfig = Pick<SplitQueue, 'size' | 'descTable' | 'availRing' | 'usedRing' | 'eventIdx' | 'indirectDesc'> &
  Partial<Pick<SplitQueue, 'inOrder'>>;
