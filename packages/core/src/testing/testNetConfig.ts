import { DEFAULT_NET_OFFLOADS } from '../device/DEFAULT_NET_OFFLOADS.ts';
import type { NetDeviceConfig } from '../device/NetDeviceConfig.ts';

/**
 * A NIC config for specs and fuzz targets: one queue pair of 256, every feature switch on
 * (offloads, MRG_RXBUF, EVENT_IDX, INDIRECT_DESC, control queue), no options; `over` replaces any
 * field (a spec names what it needs: `testNetConfig({ backend: 'vhost-net', options })`).
 */
export function testNetConfig(over: Partial<NetDeviceConfig> = {}): NetDeviceConfig {
  return {
    id: 'net0',
    backend: 'test',
    mac: Uint8Array.of(0x52, 0x54, 0x00, 0xab, 0xcd, 0xef),
    queuePairs: 1,
    queueSize: 256,
    offloads: DEFAULT_NET_OFFLOADS,
    mrgRxbuf: true,
    eventIdx: true,
    indirectDesc: true,
    ctrlVq: true,
    options: {},
    ...over,
  };
}
