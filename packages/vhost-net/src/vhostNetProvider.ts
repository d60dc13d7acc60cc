import type { NetDeviceProvider } from '@vnic/core';
import { validateVhostNetOptions } from './validateVhostNetOptions.ts';
import { VhostNetDevice } from './VhostNetDevice.ts';

/** The NetDeviceProvider of the `vhost-net` backend: validates the section, opens a VhostNetDevice. */
export const vhostNetProvider: NetDeviceProvider = {
  backend: 'vhost-net',
  validateOptions: validateVhostNetOptions,
  dataPath: "the host kernel's vhost worker, between the guest's rings and the tap",
  create: async (config) => VhostNetDevice.open(config),
};
