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
