import type { NetDeviceConfig } from '@vnic/core';

let counter = 0;

/** A NIC config for the suite: everything on, overridable per test; unique id and MAC. */
export function netConfig(backend: string, overrides: Partial<NetDeviceConfig> = {}): NetDeviceConfig {
  counter++;
  return {
    id: `conf${process.pid % 1000}x${counter}`,
    backend,
    mac: Uint8Array.of(0x52, 0x54, 0x00, 0xc0, (counter >> 8) & 0xff, counter & 0xff),
    queuePairs: 1,
    queueSize: 256,
    offloads: {
      csum: true,
      guestCsum: true,
      hostTso4: true,
      hostTso6: true,
      hostEcn: true,
      hostUfo: true,
      guestTso4: true,
      guestTso6: true,
      guestEcn: true,
      guestUfo: true,
    },
    mrgRxbuf: true,
    eventIdx: true,
    indirectDesc: true,
    ctrlVq: true,
    options: {},
    ...overrides,
  };
}
