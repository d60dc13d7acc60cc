import { accessSync, constants } from 'node:fs';
import { runCommand } from './runCommand.ts';

/**
 * Why taps in network namespaces cannot be used here, or undefined when they can: root,
 * /dev/net/tun and a working `ip netns`. Each reason says what to do.
 */
export async function netnsSupport(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'not running as root: taps and network namespaces need root (sudo)';
  try {
    accessSync('/dev/net/tun', constants.R_OK | constants.W_OK);
  } catch {
    return '/dev/net/tun is missing or not accessible: load the tun module (modprobe tun)';
  }
  try {
    await runCommand('ip', ['netns', 'list'], { timeoutMs: 5000 });
  } catch (err) {
    return `'ip netns' does not work: ${(err as Error).message}`;
  }
  return undefined;
}
