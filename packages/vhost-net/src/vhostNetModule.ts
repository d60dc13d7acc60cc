import { netBackendModule } from '@vnic/core';
import type { ContainerModule } from 'inversify';
import { vhostNetProvider } from './vhostNetProvider.ts';

/** The inversify ContainerModule of the `vhost-net` backend (binds vhostNetProvider). */
export const vhostNetModule: ContainerModule = netBackendModule('vhost-net', () => vhostNetProvider);
