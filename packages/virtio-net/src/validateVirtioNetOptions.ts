import type { ConfigIssue } from '@vnic/core';

const KEYS = ['tap', 'tapFds', 'persistent'];
/** IFNAMSIZ - 1 bytes of printable ASCII without '/', ':' or whitespace; at most one `%d`. */
const TAP_NAME_RE = /^[!-.0-9;-~]{1,15}$/;
const MAX_QUEUE_FDS = 256;

/**
 * Checks the `"virtio-net"` section of a NIC: `tap` (an interface name or `%d` template),
 * `tapFds` (the VMM's own tap fds, one per queue pair), `persistent` (boolean). Returns every
 * problem, each with its path inside the section (`tap`, `tapFds[1]`), or [] when it is valid.
 */
export function validateVirtioNetOptions(options: Readonly<Record<string, unknown>>): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const bad = (path: string, message: string): void => {
    issues.push({ path, message });
  };
  for (const key of Object.keys(options)) {
    if (!KEYS.includes(key)) bad(key, `unknown field; allowed: ${KEYS.join(', ')}`);
  }
  const { tap, tapFds, persistent } = options;
  if (tap !== undefined) {
    if (typeof tap !== 'string') bad('tap', 'must be a string (an interface name like "vnic-net0", or a template like "vnic%d")');
    else if (!TAP_NAME_RE.test(tap) || tap === '.' || tap === '..') bad('tap', `"${tap}" is not an interface name: 1..15 printable ASCII bytes without '/', ':' or spaces`);
    else if ((tap.match(/%/g) ?? []).length > 1 || (tap.includes('%') && !tap.includes('%d'))) bad('tap', `"${tap}" may contain "%d" once and no other "%"`);
  }
  if (tapFds !== undefined) {
    if (!Array.isArray(tapFds) || tapFds.length === 0 || tapFds.length > MAX_QUEUE_FDS) {
      bad('tapFds', `must be an array of 1..${MAX_QUEUE_FDS} fds, one per queue pair`);
    } else {
      const seen = new Set<number>();
      tapFds.forEach((fd: unknown, i) => {
        if (typeof fd !== 'number' || !Number.isInteger(fd) || fd < 0 || fd > 0x7fff_ffff) bad(`tapFds[${i}]`, 'must be a file descriptor number (an integer >= 0)');
        else if (seen.has(fd)) bad(`tapFds[${i}]`, `fd ${fd} is listed twice`);
        else seen.add(fd);
      });
    }
    if (tap !== undefined) bad('tapFds', 'cannot be combined with "tap": the fds already name their tap');
    if (persistent !== undefined) bad('persistent', 'applies to taps the device creates or attaches by name, not to handed-in "tapFds"');
  }
  if (persistent !== undefined && typeof persistent !== 'boolean') bad('persistent', 'must be true or false');
  return issues;
}
