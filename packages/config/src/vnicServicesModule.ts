import { LOGGER, silentLogger, type Logger } from '@vnic/core';
import { EpollLoop, EVENT_LOOP } from '@vnic/sys';
import { ContainerModule } from 'inversify';
import type { VnicServicesOptions } from './VnicServicesOptions.ts';

/**
 * The ContainerModule of the services every backend shares: LOGGER and EVENT_LOOP (one
 * main-thread EpollLoop for every NIC's watched fds; a handler that throws is logged; closed on
 * deactivation). The IO_THREAD_POOL belongs to virtioNetModule. Singletons built on first use;
 * rebind any of them with `container.rebind(TOKEN)` before the first NIC is created.
 */
export function vnicServicesModule(options: Pick<VnicServicesOptions, 'logger' | 'eventLoopSliceMs'> = {}): ContainerModule {
  return new ContainerModule((o) => {
    o.bind<Logger>(LOGGER).toConstantValue(options.logger ?? silentLogger);
    o.bind<EpollLoop>(EVENT_LOOP)
      .toDynamicValue((context) => {
        const logger = context.get<Logger>(LOGGER);
        return new EpollLoop(options.eventLoopSliceMs ?? 100, (err) =>
          logger.error({ err }, `vnic: a handler on the shared event loop threw: ${err instanceof Error ? err.message : String(err)}`),
        );
      })
      .inSingletonScope()
      .onDeactivation((loop) => loop.close());
  });
}
