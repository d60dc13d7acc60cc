import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { needsPeer } from '@vnic/sys/testing';

/** A private temp dir for sockets; remove() deletes it. */
export function socketDir(): { readonly dir: string; path(name: string): string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'vnic-vu-'));
  return { dir, path: (name) => join(dir, name), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Skip-or-fail policy for a missing peer (`peer`: what is missing, e.g. `dpdk-testpmd`): fails
 * loudly under CI, skips with a printed reason otherwise.
 */
export function peerMissing(reason: string | undefined, peer = 'dpdk-testpmd'): boolean {
  return needsPeer(`vhost-user peer tests need ${peer}`, reason).skip;
}

/** Why the QEMU guest tests cannot run here (root, qemu-system-x86_64, python3), or undefined. */
export function qemuMissing(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (tap, network namespace)';
  try {
    execFileSync('sh', ['-c', 'command -v qemu-system-x86_64 && command -v python3'], { stdio: 'pipe' });
  } catch {
    return 'qemu-system-x86_64 or python3 is missing (bash scripts/setup.sh installs them)';
  }
  return undefined;
}
