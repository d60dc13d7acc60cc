import { containerBackends, createVnicContainer, loadVmConfig, validateVmConfig } from '@vnic/config';
import { formatMac } from '@vnic/driver';
import type { CliIo } from '../CliIo.ts';

/**
 * `vnic check-config <file>`: validates a VM config through @vnic/config against the loaded
 * backends and prints every issue with its field path. Returns the exit code: 0 valid, 1 not.
 */
export async function checkConfig(file: string, io: CliIo): Promise<number> {
  let raw: unknown;
  try {
    raw = await loadVmConfig(file);
  } catch (err) {
    io.out(`${(err as Error).message}\n`);
    return 1;
  }
  const backends = containerBackends(createVnicContainer(io.backendModules()));
  const { issues, net } = validateVmConfig(raw, backends);
  const loaded = backends.names.length === 0 ? 'none' : backends.names.join(', ');
  if (issues.length > 0) {
    io.out(`${file} is invalid: ${issues.length} issue${issues.length === 1 ? '' : 's'} (backends loaded: ${loaded})\n`);
    for (const issue of issues) io.out(`  ${issue.path}: ${issue.message}\n`);
    return 1;
  }
  io.out(`${file} is valid: ${net.length} NIC${net.length === 1 ? '' : 's'} (backends loaded: ${loaded})\n`);
  for (const n of net) {
    io.out(`  ${n.id}  ${n.backend}  ${formatMac(n.mac)}  ${n.queuePairs} queue pair${n.queuePairs === 1 ? '' : 's'} x ${n.queueSize}\n`);
  }
  return 0;
}
