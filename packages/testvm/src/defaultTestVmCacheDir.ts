import { join } from 'node:path';
import { repoRoot } from './repoRoot.ts';

/** The image cache directory used when none is given: `$VNIC_TESTVM_CACHE`, else `<repo>/.vnic-tmp/testvm`. */
export function defaultTestVmCacheDir(): string {
  const env = process.env['VNIC_TESTVM_CACHE'];
  return env !== undefined && env !== '' ? env : join(repoRoot, '.vnic-tmp', 'testvm');
}
