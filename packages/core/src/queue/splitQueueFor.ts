import { VIRTIO_F_EVENT_IDX, VIRTIO_F_INDIRECT_DESC, VIRTIO_F_IN_ORDER, hasFeature } from '../defs/virtio.ts';
import type { QueueContext } from '../device/QueueContext.ts';
import type { GuestMemory } from '../memory/GuestMemory.ts';
import { SplitQueue } from './SplitQueue.ts';

/**
 * The device-side SplitQueue for a queue handed over at activation: ring addresses and size from
 * `qc`, EVENT_IDX/INDIRECT_DESC/IN_ORDER from the acked features, ring state restored when given, and the
 * rings validated against `mem` (a bad ring leaves the queue `needsReset`, never a throw).
 */
export function splitQueueFor(qc: QueueContext, features: bigint, mem: GuestMemory): SplitQueue {
  const q = new SplitQueue({
    size: qc.size,
    descTable: qc.descTable,
    availRing: qc.availRing,
    usedRing: qc.usedRing,
    eventIdx: hasFeature(features, VIRTIO_F_EVENT_IDX),
    indirectDesc: hasFeature(features, VIRTIO_F_INDIRECT_DESC),
    inOrder: hasFeature(features, VIRTIO_F_IN_ORDER),
  });
  if (qc.state !== undefined) q.setState(qc.state);
  q.validate(mem);
  return q;
}
