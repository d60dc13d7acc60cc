import { netBackendModule } from '@vnic/core';
import { virtioNetProvider } from './virtioNetProvider.ts';

/** The inversify ContainerModule binding virtioNetProvider under NET_DEVICE_PROVIDER named `virtio-net`. */
export const virtioNetModule = netBackendModule('virtio-net', () => virtioNetProvider);
