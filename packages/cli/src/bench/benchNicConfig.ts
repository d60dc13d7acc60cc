import type { NetDeviceConfig } from '@vnic/core';
import { testNetConfig } from '@vnic/core/testing';

/** The NIC config every bench measures with: one queue pair of 256, all features on (as a guest kernel acks them). */
export function benchNicConfig(id: string, backend: string, mac: Uint8Array, options: Readonly<Record<string, unknown>> = {}): NetDeviceConfig {
  return testNetConfig({ id, backend, mac, options });
}
