import type { WarningCoalescer } from '@vnic/core';
import type { BackendChannelHandlers } from '../connection/BackendChannel.ts';

/**
 * What a vhost-user NIC does with its backend channel: each CONFIG_CHANGE_MSG is counted
 * (`onConfigChange`) and becomes a `warning` through `warnings`, coalesced, so a backend that
 * floods the channel costs a few events a second, each with the count, not one per message; a
 * broken channel is one warning of its own kind.
 */
export function backendChannelHandlers(nic: string, warnings: WarningCoalescer, onConfigChange: () => void): BackendChannelHandlers {
  return {
    onConfigChange: () => {
      onConfigChange();
      warnings.warn('config-change', `${nic}: the vhost-user backend reported a config change (CONFIG_CHANGE_MSG); vnic keeps the NIC's config space itself`);
    },
    onError: (err) => warnings.warn('backend-channel', `${nic}: ${err.message}`),
  };
}
