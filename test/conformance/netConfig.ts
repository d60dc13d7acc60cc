import type { NetDeviceConfig } from '@vnic/core';
import { testNetConfig } from '@vnic/core/testing';

let counter = 0;

/** A NIC config for the suite: everything on, overridable per test; unique id and MAC. */
export function netConfig(backend: string, overrides: Partial<NetDeviceConfig> = {}): NetDeviceConfig {
  counter++;
  return testNetConfig({
    id: `conf${process.pid % 1000}x${counter}`,
    backend,
    mac: Uint8Array.of(0x52, 0x54, 0x00, 0xc0, (counter >> 8) & 0xff, counter & 0xff),
    ...overrides,
  });
}
