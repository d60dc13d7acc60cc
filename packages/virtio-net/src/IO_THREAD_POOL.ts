import { token } from '@vnic/core';
import type { IoThreadPool } from './IoThreadPool.ts';

/**
 * DI token of the IoThreadPool a container's `virtio-net` NICs run their queue pairs on. Bound by
 * virtioNetModule (a pool built from the container's LOGGER, closed when the container is
 * disposed); a VMM rebinds it to a pool of its own size and policy.
 */
export const IO_THREAD_POOL = token<IoThreadPool>('vnic.IoThreadPool');
