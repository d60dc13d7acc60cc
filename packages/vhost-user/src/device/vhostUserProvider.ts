import { formatConfigIssues, type NetDeviceConfig, type NetDeviceProvider, type VirtioNetDevice } from '@vnic/core';
import type { EpollLoop } from '@vnic/sys';
import { VhostUserError } from '../VhostUserError.ts';
import { parseVhostUserOptions } from './parseVhostUserOptions.ts';
import { VhostUserNetDevice } from './VhostUserNetDevice.ts';

/**
 * The `vhost-user` NetDeviceProvider: validates the `"vhost-user"` section and builds
 * VhostUserNetDevices. Its devices share the process-wide sharedEpollLoop; vhostUserModule gives
 * them the container's EVENT_LOOP instead (through `createWith`).
 */
export const vhostUserProvider: NetDeviceProvider & { createWith(loop: EpollLoop | undefined): NetDeviceProvider['create'] } = {
  backend: 'vhost-user',
  validateOptions: (options) => parseVhostUserOptions(options).issues,
  dataPath: 'the vhost-user backend process, which reads and writes the guest rings itself',
  create: (config) => vhostUserProvider.createWith(undefined)(config),
  createWith(loop) {
    return async (config: NetDeviceConfig): Promise<VirtioNetDevice> => {
      const { options, issues } = parseVhostUserOptions(config.options);
      if (options === undefined) {
        throw new VhostUserError('invalid-argument', `${config.id}: vhost-user options: ${formatConfigIssues(issues)}`);
      }
      return VhostUserNetDevice.create(config, options, loop === undefined ? {} : { loop });
    };
  },
};
