import { netBackendModule, type NetDeviceProvider } from '@vnic/core';
import type { ContainerModule } from 'inversify';
import { DgramNetDevice } from './DgramNetDevice.ts';

/**
 * The one ContainerModule of the backend: binds its provider under the backend name `dgram`.
 * A VMM loads it next to vnic's own modules; `net[].backend: "dgram"` then builds a DgramNetDevice.
 */
export function dgramBackendModule(): ContainerModule {
  return netBackendModule('dgram', (): NetDeviceProvider => ({
    backend: 'dgram',
    validateOptions: (options) => Object.keys(options).map((key) => ({ path: key, message: 'the dgram backend takes no options' })),
    create: async (config) => new DgramNetDevice(config),
  }));
}
