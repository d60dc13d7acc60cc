import { netBackendModule } from '@vnic/core';
import { EVENT_LOOP, type EpollLoop } from '@vnic/sys';
import type { ContainerModule } from 'inversify';
import { vhostUserProvider } from './vhostUserProvider.ts';

/**
 * The inversify ContainerModule of the `vhost-user` backend (binds vhostUserProvider). Its inject
 * list: EVENT_LOOP (optional), the one loop all its NICs watch their sockets and kicks on;
 * without one they share the process-wide sharedEpollLoop. Never one loop per NIC.
 */
export const vhostUserModule: ContainerModule = netBackendModule('vhost-user', (context) => {
  const loop = context.get<EpollLoop>(EVENT_LOOP, { optional: true });
  return { ...vhostUserProvider, create: vhostUserProvider.createWith(loop) };
});
