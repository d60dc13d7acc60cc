import { LOGGER, type Logger } from '@vnic/core';
import { IO_THREAD_POOL, IoThreadPool } from '@vnic/virtio-net';
import type { ContainerModule } from 'inversify';
import { defaultBackendModules } from './defaultBackendModules.ts';
import { VnicContainer } from './VnicContainer.ts';
import type { VnicServicesOptions } from './VnicServicesOptions.ts';
import { vnicServicesModule } from './vnicServicesModule.ts';

/**
 * The composition root: an inversify container with the shared services (vnicServicesModule:
 * LOGGER, EVENT_LOOP) and one ContainerModule per backend (virtioNetModule also binds
 * IO_THREAD_POOL). Without `modules` it loads every backend package vnic ships; a VMM may pass its
 * own list (to add a backend of its own or to leave one out). `services` sets the logger, the IO
 * thread pool's size and policy and the event loop's slice; a VMM may also rebind LOGGER,
 * EVENT_LOOP or IO_THREAD_POOL itself before creating NICs. `dispose()` releases it all.
 */
export function createVnicContainer(modules: readonly ContainerModule[] = defaultBackendModules(), services: VnicServicesOptions = {}): VnicContainer {
  const container = new VnicContainer();
  container.load(vnicServicesModule(services), ...modules);
  const poolOptions = services.ioThreadPool;
  if (poolOptions !== undefined && container.isBound(IO_THREAD_POOL)) {
    container
      .rebind<IoThreadPool>(IO_THREAD_POOL)
      .toDynamicValue((context) => new IoThreadPool({ ...poolOptions, logger: context.get<Logger>(LOGGER) }))
      .inSingletonScope()
      .onDeactivation((pool) => pool.close());
  }
  return container;
}
