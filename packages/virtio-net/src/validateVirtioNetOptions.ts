import { validateTapOptions, type ConfigIssue } from '@vnic/core';

const KEYS = ['tap', 'tapFds', 'persistent', 'ioThreads', 'txSqPoll'];
const IO_THREAD_MODES = ['shared', 'dedicated'];

/**
 * Checks the `"virtio-net"` section of a NIC: `tap` (an interface name or `%d` template),
 * `tapFds` (the VMM's own tap fds, one per queue pair), `persistent` (boolean), `ioThreads`
 * (`shared` or `dedicated`, IoThreadMode), `txSqPoll` (boolean). Returns every
 * problem, each with its path inside the section (`tap`, `tapFds[1]`), or [] when it is valid.
 */
export function validateVirtioNetOptions(options: Readonly<Record<string, unknown>>): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const key of Object.keys(options)) {
    if (!KEYS.includes(key)) issues.push({ path: key, message: `unknown field; allowed: ${KEYS.join(', ')}` });
  }
  const mode = options['ioThreads'];
  if (mode !== undefined && !IO_THREAD_MODES.includes(mode as string)) {
    issues.push({ path: 'ioThreads', message: `must be one of ${IO_THREAD_MODES.map((m) => `"${m}"`).join(', ')}` });
  }
  if (options['txSqPoll'] !== undefined && typeof options['txSqPoll'] !== 'boolean') issues.push({ path: 'txSqPoll', message: 'must be true or false' });
  return [...issues, ...validateTapOptions(options)];
}
