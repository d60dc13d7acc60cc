import { LOGGER, netBackendModule, type Logger } from '@vnic/core';
import type { ContainerModule } from 'inversify';
import { IO_THREAD_POOL } from './IO_THREAD_POOL.ts';
import { IoThreadPool } from './IoThreadPool.ts';
import { VirtioNetTapDevice } from './VirtioNetTapDevice.ts';
import { virtioNetProvider } from './virtioNetProvider.ts';

/**
 * The inversify ContainerModule of the `virtio-net` backend: binds virtioNetProvider under
 * NET_DEVICE_PROVIDER named `virtio-net`, and IO_THREAD_POOL to a singleton IoThreadPool (default
 * size, logging through LOGGER when bound) that the container closes on unbindAll. Its provider's
 * inject list: IO_THREAD_POOL.
 */
export const virtioNetModule: ContainerModule = netBackendModule(
  'virtio-net',
  (context) => {
    const pool = context.get<IoThreadPool>(IO_THREAD_POOL);
    return { ...virtioNetProvider, create: async (config) => VirtioNetTapDevice.open(config, { pool }) };
  },
  (options) => {
    options
      .bind<IoThreadPool>(IO_THREAD_POOL)
      .toDynamicValue((context) => {
        const logger = context.get<Logger>(LOGGER, { optional: true });
        return new IoThreadPool(logger === undefined ? {} : { logger });
      })
      .inSingletonScope()
      .onDeactivation((pool) => pool.close());
  },
);
