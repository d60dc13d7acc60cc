import type { ConfigIssue } from './ConfigIssue.ts';
import { validateFdList } from './validateFdList.ts';

/** IFNAMSIZ - 1 bytes of printable ASCII without '/', ':' or whitespace; at most one `%d`. */
const TAP_NAME_RE = /^[!-.0-9;-~]{1,15}$/;

/**
 * Checks the tap fields every tap-based backend section shares (`virtio-net`, `vhost-net`):
 * `tap` (an interface name or `%d` template), `tapFds` (the VMM's own tap fds, one per queue
 * pair), `persistent` (boolean). Unknown keys are the caller's business. Returns every problem
 * with its path inside the section (`tap`, `tapFds[1]`), or [].
 */
export function validateTapOptions(options: Readonly<Record<string, unknown>>): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const bad = (path: string, message: string): void => {
    issues.push({ path, message });
  };
  const { tap, tapFds, persistent } = options;
  if (tap !== undefined) {
    if (typeof tap !== 'string') bad('tap', 'must be a string (an interface name like "vnic-net0", or a template like "vnic%d")');
    else if (!TAP_NAME_RE.test(tap) || tap === '.' || tap === '..')
      bad('tap', `"${tap}" is not an interface name: 1..15 printable ASCII bytes without '/', ':' or spaces`);
    else if ((tap.match(/%/g) ?? []).length > 1 || (tap.includes('%') && !tap.includes('%d'))) bad('tap', `"${tap}" may contain "%d" once and no other "%"`);
  }
  if (tapFds !== undefined) {
    issues.push(...validateFdList('tapFds', tapFds, 'tap queue fd'));
    if (tap !== undefined) bad('tapFds', 'cannot be combined with "tap": the fds already name their tap');
    if (persistent !== undefined) bad('persistent', 'applies to taps the device creates or attaches by name, not to handed-in "tapFds"');
  }
  if (persistent !== undefined && typeof persistent !== 'boolean') bad('persistent', 'must be true or false');
  return issues;
}
