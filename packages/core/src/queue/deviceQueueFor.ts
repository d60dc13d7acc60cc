import { hasFeature, VIRTIO_F_RING_PACKED } from '../defs/virtio.ts';
import type { QueueContext } from '../device/QueueContext.ts';
import type { GuestMemory } from '../memory/GuestMemory.ts';
import type { DeviceQueue } from './DeviceQueue.ts';
import { packedQueueFor } from './packedQueueFor.ts';
import { splitQueueFor } from './splitQueueFor.ts';

/**
 * The device side of a queue handed over at activation, in the ring layout the driver negotiated:
 * a PackedQueue when VIRTIO_F_RING_PACKED was acked, a SplitQueue otherwise (state restored,
 * rings validated; a bad ring leaves it `needsReset`, never a throw).
 */
export function deviceQueueFor(qc: QueueContext, features: bigint, mem: GuestMemory): DeviceQueue {
  return hasFeature(features, VIRTIO_F_RING_PACKED) ? packedQueueFor(qc, features, mem) : splitQueueFor(qc, features, mem);
}
