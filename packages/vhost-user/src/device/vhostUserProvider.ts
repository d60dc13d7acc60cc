import { formatConfigIssues, type NetDeviceConfig, type NetDeviceProvider, type VirtioNetDevice } from '@vnic/core';
import { VhostUserError } from '../VhostUserError.ts';
import { parseVhostUserOptions } from './parseVhostUserOptions.ts';
import { VhostUserNetDevice } from './VhostUserNetDevice.ts';

/** The `vhost-user` NetDeviceProvider: validates the `"vhost-user"` section and builds VhostUserNetDevices. */
export const vhostUserProvider: NetDeviceProvider = {
  backend: 'vhost-user',
  validateOptions: (options) => parseVhostUserOptions(options).issues,
  async create(config: NetDeviceConfig): Promise<VirtioNetDevice> {
    const { options, issues } = parseVhostUserOptions(config.options);
    if (options === undefined) {
      throw new VhostUserError('invalid-argument', `${config.id}: vhost-user options: ${formatConfigIssues(issues)}`);
    }
    return VhostUserNetDevice.create(config, options);
  },
};
