import { DEFAULT_NET_OFFLOADS } from '../device/DEFAULT_NET_OFFLOADS.ts';
import type { NetDeviceConfig } from '../device/NetDeviceConfig.ts';
import { testNetConfig } from './testNetConfig.ts';

/**
 * The NIC behind the virtio-mmio transport specs and its fuzz target: two queue pairs (so the
 * control queue is queue 4 and MQ is offered), MTU 1500, every offload but UFO.
 */
export function mmioNetConfig(over: Partial<NetDeviceConfig> = {}): NetDeviceConfig {
  return testNetConfig({ queuePairs: 2, mtu: 1500, offloads: { ...DEFAULT_NET_OFFLOADS, hostUfo: false, guestUfo: false }, ...over });
}
