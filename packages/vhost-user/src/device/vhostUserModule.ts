import { netBackendModule } from '@vnic/core';
import type { ContainerModule } from 'inversify';
import { vhostUserProvider } from './vhostUserProvider.ts';

/** The inversify ContainerModule of the `vhost-user` backend (binds vhostUserProvider). */
export const vhostUserModule: ContainerModule = netBackendModule('vhost-user', () => vhostUserProvider);
