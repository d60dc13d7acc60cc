import type { GuestMemoryLayout } from '../memory/GuestMemoryLayout.ts';
import type { QueueContext } from './QueueContext.ts';

/**
 * Everything a backend needs at DRIVER_OK. The same context feeds all three backends: the
 * in-process one maps it, vhost-net hands it to the kernel, vhost-user sends it over the socket.
 */
export interface ActivateContext {
  /** Features the driver acked (a subset of the device's offer). */
  readonly features: bigint;
  /** Guest memory map. */
  readonly memory: GuestMemoryLayout;
  /** The queues the driver enabled, in index order (rx0, tx0, rx1, tx1, ..., ctrl). */
  readonly queues: readonly QueueContext[];
}
