import { validateFdList, validateTapOptions, type ConfigIssue } from '@vnic/core';

const KEYS = ['tap', 'tapFds', 'persistent', 'vhostFds'];

/**
 * Checks the `"vhost-net"` section of a NIC: the tap fields (`tap`, `tapFds`, `persistent`, as
 * the in-process backend) and `vhostFds` (the VMM's /dev/vhost-net fds, one per queue pair).
 * Returns every problem with its path inside the section (`vhostFds[1]`), or [] when it is valid.
 */
export function validateVhostNetOptions(options: Readonly<Record<string, unknown>>): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const key of Object.keys(options)) {
    if (!KEYS.includes(key)) issues.push({ path: key, message: `unknown field; allowed: ${KEYS.join(', ')}` });
  }
  issues.push(...validateTapOptions(options));
  if (options['vhostFds'] !== undefined) issues.push(...validateFdList('vhostFds', options['vhostFds'], '/dev/vhost-net fd'));
  const tapFds = options['tapFds'];
  const vhostFds = options['vhostFds'];
  if (Array.isArray(tapFds) && Array.isArray(vhostFds) && tapFds.length !== vhostFds.length) {
    issues.push({ path: 'vhostFds', message: `has ${vhostFds.length} fd(s) but tapFds has ${tapFds.length}: both take one fd per queue pair` });
  }
  return issues;
}
