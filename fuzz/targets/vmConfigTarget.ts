import type { ConfigIssue, NetDeviceProvider } from '../../packages/core/src/index.ts';
import type { BackendRegistry } from '../../packages/config/src/BackendRegistry.ts';
import { ConfigError } from '../../packages/config/src/ConfigError.ts';
import { type VmConfigValidation, validateVmConfig } from '../../packages/config/src/validateVmConfig.ts';
import { FuzzOracleError } from '../FuzzOracleError.ts';

const providers = new Map<string, NetDeviceProvider>(
  ['virtio-net', 'vhost-net', 'vhost-user'].map((backend) => [
    backend,
    {
      backend,
      validateOptions(o): ConfigIssue[] {
        const key = backend === 'vhost-user' ? 'socket' : 'tap';
        return typeof o[key] === 'string' ? [] : [{ path: key, message: 'must be a string' }];
      },
      create: () => Promise.reject(new Error('not used')),
    },
  ]),
);
const registry: BackendRegistry = { names: [...providers.keys()].sort(), provider: (n) => providers.get(n) };

/**
 * Fuzz target for config validation: the input as UTF-8 JSON (inputs that are not JSON are skipped).
 * Oracle: validateVmConfig returns (issues or a config) and never throws anything but ConfigError;
 * an accepted config has unique NIC ids; every issue names a path.
 */
export function vmConfigTarget(data: Uint8Array): void {
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder().decode(data));
  } catch {
    return;
  }
  let result: VmConfigValidation;
  try {
    result = validateVmConfig(raw, registry);
  } catch (err) {
    if (err instanceof ConfigError) return;
    throw err;
  }
  for (const issue of result.issues) {
    if (typeof issue.path !== 'string' || typeof issue.message !== 'string' || issue.message === '') throw new FuzzOracleError('issue without path or message');
  }
  if (result.issues.length === 0) {
    const ids = result.net.map((n) => n.id);
    if (new Set(ids).size !== ids.length) throw new FuzzOracleError(`accepted duplicate NIC ids ${ids.join(',')}`);
  }
}
