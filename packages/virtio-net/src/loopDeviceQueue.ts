import { PackedQueue, SplitQueue, type DeviceQueue, type QueueContext } from '@vnic/core';
import type { IoWorkerData } from './IoWorkerData.ts';

/**
 * The device side of one data queue of a queue pair, in the layout the driver negotiated: a
 * PackedQueue with RING_PACKED (Descriptor/Driver/Device Areas at the transport's three
 * addresses), a SplitQueue otherwise, both with IN_ORDER when acked; ring state restored when given.
 * Validated by the loop's start().
 */
export function loopDeviceQueue(ctx: QueueContext, data: Pick<IoWorkerData, 'eventIdx' | 'indirectDesc' | 'ringPacked' | 'inOrder'>): DeviceQueue {
  const { eventIdx, indirectDesc } = data;
  const q: DeviceQueue = data.ringPacked
    ? new PackedQueue({
        size: ctx.size,
        descRing: ctx.descTable,
        driverEvent: ctx.availRing,
        deviceEvent: ctx.usedRing,
        eventIdx,
        indirectDesc,
        inOrder: data.inOrder,
      })
    : new SplitQueue({
        size: ctx.size,
        descTable: ctx.descTable,
        availRing: ctx.availRing,
        usedRing: ctx.usedRing,
        eventIdx,
        indirectDesc,
        inOrder: data.inOrder,
      });
  if (ctx.state !== undefined) q.setState(ctx.state);
  return q;
}
