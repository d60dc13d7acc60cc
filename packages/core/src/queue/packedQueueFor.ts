import { VIRTIO_F_EVENT_IDX, VIRTIO_F_INDIRECT_DESC, VIRTIO_F_IN_ORDER, hasFeature } from '../defs/virtio.ts';
import type { QueueContext } from '../device/QueueContext.ts';
import type { GuestMemory } from '../memory/GuestMemory.ts';
import { PackedQueue } from './PackedQueue.ts';

/**
 * The device-side PackedQueue for a queue handed over at activation, the twin of `splitQueueFor`:
 * the transport's three addresses are the Descriptor Area (`descTable`: the descriptor ring), the
 * Driver Area (`availRing`: driver event suppression) and the Device Area (`usedRing`: device event
 * suppression); EVENT_IDX, INDIRECT_DESC and IN_ORDER come from the acked features; ring state is
 * restored when given; the parts are validated against `mem` (a bad ring leaves the queue
 * `needsReset`, never a throw).
 */
export function packedQueueFor(qc: QueueContext, features: bigint, mem: GuestMemory): PackedQueue {
  const q = new PackedQueue({
    size: qc.size,
    descRing: qc.descTable,
    driverEvent: qc.availRing,
    deviceEvent: qc.usedRing,
    eventIdx: hasFeature(features, VIRTIO_F_EVENT_IDX),
    indirectDesc: hasFeature(features, VIRTIO_F_INDIRECT_DESC),
    inOrder: hasFeature(features, VIRTIO_F_IN_ORDER),
  });
  if (qc.state !== undefined) q.setState(qc.state);
  q.validate(mem);
  return q;
}
