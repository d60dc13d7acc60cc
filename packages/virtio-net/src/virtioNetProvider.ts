import type { NetDeviceProvider } from '@vnic/core';
import { validateVirtioNetOptions } from './validateVirtioNetOptions.ts';
import { VirtioNetTapDevice } from './VirtioNetTapDevice.ts';

/** The NetDeviceProvider of the `virtio-net` backend: validates the section, opens a VirtioNetTapDevice. */
export const virtioNetProvider: NetDeviceProvider = {
  backend: 'virtio-net',
  validateOptions: validateVirtioNetOptions,
  rateLimit: true,
  coalescing: true,
  create: async (config) => VirtioNetTapDevice.open(config),
};
