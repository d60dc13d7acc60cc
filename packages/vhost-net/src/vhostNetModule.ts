import { netBackendModule } from '@vnic/core';
import { EVENT_LOOP, type EpollLoop } from '@vnic/sys';
import type { ContainerModule } from 'inversify';
import { VhostNetDevice } from './VhostNetDevice.ts';
import { vhostNetProvider } from './vhostNetProvider.ts';

/**
 * The inversify ContainerModule of the `vhost-net` backend (binds vhostNetProvider). Its inject
 * list: EVENT_LOOP (optional), the loop its devices watch their fds on; without one they share the
 * process-wide sharedEpollLoop.
 */
export const vhostNetModule: ContainerModule = netBackendModule('vhost-net', (context) => {
  const loop = context.get<EpollLoop>(EVENT_LOOP, { optional: true });
  return loop === undefined ? vhostNetProvider : { ...vhostNetProvider, create: async (config) => VhostNetDevice.open(config, { loop }) };
});
