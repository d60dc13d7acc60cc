import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';

/** Whether the host-kernel TAP peer (root, /dev/net/tun, `ip netns`) is here; `skip` is true only off CI. */
export interface HostTapPeer {
  readonly reason: string | undefined;
  readonly skip: boolean;
}

function probe(): string | undefined {
  if (process.getuid?.() !== 0) return 'not running as root';
  try {
    accessSync('/dev/net/tun', constants.R_OK | constants.W_OK);
  } catch {
    return '/dev/net/tun is missing or not accessible';
  }
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'pipe' });
  } catch {
    return "'ip netns' does not work (iproute2 missing?)";
  }
  return undefined;
}

/**
 * Checks for the host kernel TAP peer once. Off CI a missing peer skips the suite with a
 * printed reason; on CI (`CI` set) the suite runs and fails loudly.
 */
export function hostTapPeer(): HostTapPeer {
  const reason = probe();
  const skip = reason !== undefined && (process.env['CI'] ?? '') === '';
  if (skip) console.warn(`[@vnic/sys] skipping host kernel tap tests: ${reason}`);
  return { reason, skip };
}
