import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { needsPeer, type PeerCheck } from './needsPeer.ts';

/** Whether the host-kernel TAP peer (root, /dev/net/tun, `ip netns`) is here; `skip` is true only off CI. */
export type HostTapPeer = PeerCheck;

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
 * Checks for the host kernel TAP peer (through needsPeer): off CI a missing peer skips the suite
 * with a printed reason; under CI (`CI` set) it throws, so the suite fails loudly.
 */
export function hostTapPeer(): HostTapPeer {
  return needsPeer('host kernel tap tests', probe());
}
