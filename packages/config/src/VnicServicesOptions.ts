import type { Logger } from '@vnic/core';
import type { IoThreadPoolOptions } from '@vnic/virtio-net';

/** The process-wide services of a container, as createVnicContainer builds them. */
export interface VnicServicesOptions {
  /** The LOGGER (default: silentLogger; a pino logger plugs in as it is). */
  readonly logger?: Logger;
  /** Size and policy of the IO_THREAD_POOL of `virtio-net` NICs (default: IoThreadPool's defaults). */
  readonly ioThreadPool?: Omit<IoThreadPoolOptions, 'logger'>;
  /** Longest single epoll_wait of the shared EVENT_LOOP in ms (default 100; bounds how long closing it waits). */
  readonly eventLoopSliceMs?: number;
}
