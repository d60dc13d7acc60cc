import { DEFAULT_NET_OFFLOADS, type NetDeviceConfig } from '@vnic/core';

/** The NIC config every bench measures with: one queue pair of 256, all features on (as a guest kernel acks them). */
export function benchNicConfig(id: string, backend: string, mac: Uint8Array, options: Readonly<Record<string, unknown>> = {}): NetDeviceConfig {
  return {
    id,
    backend,
    mac,
    queuePairs: 1,
    queueSize: 256,
    offloads: DEFAULT_NET_OFFLOADS,
    mrgRxbuf: true,
    eventIdx: true,
    indirectDesc: true,
    ctrlVq: true,
    options,
  };
}
