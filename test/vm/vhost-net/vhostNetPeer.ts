import { accessSync, constants } from 'node:fs';
import { hostTapPeer } from '@vnic/sys/testing';

/**
 * The kernel vhost_net peer, checked once per file: these tests run INSIDE the test VM
 * (@vnic/testvm sets VNIC_IN_TESTVM=1), where the Debian kernel has vhost_net and tun loaded.
 * Anywhere else, or when /dev/vhost-net is missing in the VM, the reason is returned and the
 * suite fails loudly (these files are only ever run by the VM stage).
 */
export function vhostNetPeer(): string | undefined {
  if (process.env['VNIC_IN_TESTVM'] !== '1') return 'not inside the test VM (run through @vnic/testvm: scripts/test.sh)';
  try {
    accessSync('/dev/vhost-net', constants.R_OK | constants.W_OK);
  } catch {
    return '/dev/vhost-net is missing in the test VM: is vhost_net in its module list?';
  }
  return hostTapPeer().reason;
}
