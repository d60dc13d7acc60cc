import type { DeviceQueue } from '@vnic/core';
import type { EventFd } from '@vnic/sys';
import type { QueueCounters } from './QueueCounters.ts';
import type { QueueNotifier } from './QueueNotifier.ts';

/** One queue of a QueuePairLoop: its ring, its kick and call eventfds and its counters. */
export interface LoopQueue {
  readonly index: number;
  readonly q: DeviceQueue;
  readonly kick: EventFd;
  readonly call: EventFd;
  readonly c: QueueCounters;
  /** The queue's used-buffer notifications (coalescing honoured): `notify` instead of writing `call`. */
  readonly notifier: QueueNotifier;
  /** q.malformed is per activation; the published count adds it to what earlier activations counted. */
  readonly malformedBase: number;
  /** RX chains that cannot take a frame (too small, too many buffers), returned with used length 0. */
  unusable: number;
  reported: boolean;
}
