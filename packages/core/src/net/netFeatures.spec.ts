import { describe, expect, it } from 'vitest';
import { featureBit, VIRTIO_F_EVENT_IDX, VIRTIO_F_IN_ORDER, VIRTIO_F_INDIRECT_DESC, VIRTIO_F_RING_PACKED, VIRTIO_F_VERSION_1 } from '../defs/virtio.ts';
import * as N from '../defs/virtio_net.ts';
import type { NetDeviceConfig } from '../device/NetDeviceConfig.ts';
import type { NetOffloads } from '../device/NetOffloads.ts';
import { checkNetFeatures } from './checkNetFeatures.ts';
import { guestOffloadFeatures } from './guestOffloadFeatures.ts';
import { netDeviceFeatures } from './netDeviceFeatures.ts';
import { pruneNetFeatures } from './pruneNetFeatures.ts';
import { DEFAULT_NET_OFFLOADS } from '../device/DEFAULT_NET_OFFLOADS.ts';

const bits = (...n: number[]): bigint => n.reduce((a, b) => a | featureBit(b), 0n);

const ALL_OFFLOADS: NetOffloads = DEFAULT_NET_OFFLOADS;
const NO_OFFLOADS: NetOffloads = Object.fromEntries(Object.keys(ALL_OFFLOADS).map((k) => [k, false])) as unknown as NetOffloads;

function config(over: Partial<NetDeviceConfig> = {}): NetDeviceConfig {
  return {
    id: 'net0',
    backend: 'test',
    mac: Uint8Array.of(0x52, 0x54, 0, 0, 0, 1),
    queuePairs: 1,
    queueSize: 256,
    offloads: NO_OFFLOADS,
    mrgRxbuf: false,
    eventIdx: false,
    indirectDesc: false,
    ctrlVq: false,
    options: {},
    ...over,
  };
}

describe('checkNetFeatures', () => {
  it.each<[string, number[], string]>([
    ['GUEST_TSO4 without GUEST_CSUM', [N.VIRTIO_NET_F_GUEST_TSO4], 'VIRTIO_NET_F_GUEST_TSO4 requires VIRTIO_NET_F_GUEST_CSUM'],
    ['GUEST_TSO6 without GUEST_CSUM', [N.VIRTIO_NET_F_GUEST_TSO6], 'VIRTIO_NET_F_GUEST_TSO6 requires VIRTIO_NET_F_GUEST_CSUM'],
    ['GUEST_UFO without GUEST_CSUM', [N.VIRTIO_NET_F_GUEST_UFO], 'VIRTIO_NET_F_GUEST_UFO requires VIRTIO_NET_F_GUEST_CSUM'],
    ['GUEST_ECN without GUEST_TSO', [N.VIRTIO_NET_F_GUEST_CSUM, N.VIRTIO_NET_F_GUEST_ECN], 'VIRTIO_NET_F_GUEST_ECN requires'],
    ['HOST_TSO4 without CSUM', [N.VIRTIO_NET_F_HOST_TSO4], 'VIRTIO_NET_F_HOST_TSO4 requires VIRTIO_NET_F_CSUM'],
    ['HOST_TSO6 without CSUM', [N.VIRTIO_NET_F_HOST_TSO6], 'VIRTIO_NET_F_HOST_TSO6 requires VIRTIO_NET_F_CSUM'],
    ['HOST_UFO without CSUM', [N.VIRTIO_NET_F_HOST_UFO], 'VIRTIO_NET_F_HOST_UFO requires VIRTIO_NET_F_CSUM'],
    ['HOST_ECN without HOST_TSO', [N.VIRTIO_NET_F_CSUM, N.VIRTIO_NET_F_HOST_ECN], 'VIRTIO_NET_F_HOST_ECN requires'],
    ['CTRL_RX without CTRL_VQ', [N.VIRTIO_NET_F_CTRL_RX], 'VIRTIO_NET_F_CTRL_RX requires VIRTIO_NET_F_CTRL_VQ'],
    ['CTRL_RX_EXTRA without CTRL_VQ', [N.VIRTIO_NET_F_CTRL_RX_EXTRA], 'VIRTIO_NET_F_CTRL_RX_EXTRA requires'],
    ['CTRL_VLAN without CTRL_VQ', [N.VIRTIO_NET_F_CTRL_VLAN], 'VIRTIO_NET_F_CTRL_VLAN requires'],
    ['GUEST_ANNOUNCE without CTRL_VQ', [N.VIRTIO_NET_F_GUEST_ANNOUNCE], 'VIRTIO_NET_F_GUEST_ANNOUNCE requires'],
    ['MQ without CTRL_VQ', [N.VIRTIO_NET_F_MQ], 'VIRTIO_NET_F_MQ requires VIRTIO_NET_F_CTRL_VQ'],
    ['CTRL_MAC_ADDR without CTRL_VQ', [N.VIRTIO_NET_F_CTRL_MAC_ADDR], 'VIRTIO_NET_F_CTRL_MAC_ADDR requires'],
    ['CTRL_GUEST_OFFLOADS without CTRL_VQ', [N.VIRTIO_NET_F_CTRL_GUEST_OFFLOADS], 'VIRTIO_NET_F_CTRL_GUEST_OFFLOADS requires'],
    ['RSC_EXT without HOST_TSO', [N.VIRTIO_NET_F_CSUM, N.VIRTIO_NET_F_RSC_EXT], 'VIRTIO_NET_F_RSC_EXT requires'],
  ])('rejects %s', (_name, features, text) => {
    expect(checkNetFeatures(bits(...features))).toContain(text);
  });

  it.each<[string, number[]]>([
    ['nothing', []],
    ['GUEST_TSO4 with GUEST_CSUM', [N.VIRTIO_NET_F_GUEST_TSO4, N.VIRTIO_NET_F_GUEST_CSUM]],
    ['GUEST_ECN with GUEST_TSO6 only', [N.VIRTIO_NET_F_GUEST_CSUM, N.VIRTIO_NET_F_GUEST_TSO6, N.VIRTIO_NET_F_GUEST_ECN]],
    ['HOST_ECN with HOST_TSO4 only', [N.VIRTIO_NET_F_CSUM, N.VIRTIO_NET_F_HOST_TSO4, N.VIRTIO_NET_F_HOST_ECN]],
    ['the control family with CTRL_VQ', [N.VIRTIO_NET_F_CTRL_VQ, N.VIRTIO_NET_F_CTRL_RX, N.VIRTIO_NET_F_MQ, N.VIRTIO_NET_F_GUEST_ANNOUNCE]],
  ])('accepts %s', (_name, features) => {
    expect(checkNetFeatures(bits(...features))).toBeUndefined();
  });
});

describe('pruneNetFeatures', () => {
  it('drops dependants transitively', () => {
    const f = bits(N.VIRTIO_NET_F_HOST_TSO4, N.VIRTIO_NET_F_HOST_ECN, N.VIRTIO_NET_F_GUEST_CSUM, N.VIRTIO_NET_F_GUEST_TSO4);
    expect(pruneNetFeatures(f)).toBe(bits(N.VIRTIO_NET_F_GUEST_CSUM, N.VIRTIO_NET_F_GUEST_TSO4));
  });

  it('drops the control family without CTRL_VQ and leaves unrelated bits', () => {
    const f = bits(VIRTIO_F_VERSION_1, N.VIRTIO_NET_F_MAC, N.VIRTIO_NET_F_CTRL_RX, N.VIRTIO_NET_F_MQ);
    expect(pruneNetFeatures(f)).toBe(bits(VIRTIO_F_VERSION_1, N.VIRTIO_NET_F_MAC));
  });
});

describe('netDeviceFeatures', () => {
  it('offers VERSION_1, MAC, STATUS, RING_PACKED and IN_ORDER for the plainest config', () => {
    expect(netDeviceFeatures(config())).toBe(bits(VIRTIO_F_VERSION_1, N.VIRTIO_NET_F_MAC, N.VIRTIO_NET_F_STATUS, VIRTIO_F_RING_PACKED, VIRTIO_F_IN_ORDER));
  });

  it('adds MTU, MRG_RXBUF, EVENT_IDX, INDIRECT_DESC when configured', () => {
    const f = netDeviceFeatures(config({ mtu: 9000, mrgRxbuf: true, eventIdx: true, indirectDesc: true }));
    expect(f).toBe(
      bits(
        VIRTIO_F_VERSION_1,
        N.VIRTIO_NET_F_MAC,
        N.VIRTIO_NET_F_STATUS,
        N.VIRTIO_NET_F_MTU,
        N.VIRTIO_NET_F_MRG_RXBUF,
        VIRTIO_F_EVENT_IDX,
        VIRTIO_F_INDIRECT_DESC,
        VIRTIO_F_RING_PACKED,
        VIRTIO_F_IN_ORDER,
      ),
    );
  });

  it('adds the control family with ctrlVq, and MQ only with more than one pair', () => {
    const ctrl = bits(
      N.VIRTIO_NET_F_CTRL_VQ,
      N.VIRTIO_NET_F_CTRL_RX,
      N.VIRTIO_NET_F_CTRL_RX_EXTRA,
      N.VIRTIO_NET_F_CTRL_VLAN,
      N.VIRTIO_NET_F_CTRL_MAC_ADDR,
      N.VIRTIO_NET_F_GUEST_ANNOUNCE,
      N.VIRTIO_NET_F_CTRL_GUEST_OFFLOADS,
      N.VIRTIO_NET_F_NOTF_COAL,
      N.VIRTIO_NET_F_VQ_NOTF_COAL,
    );
    const base = bits(VIRTIO_F_VERSION_1, N.VIRTIO_NET_F_MAC, N.VIRTIO_NET_F_STATUS, VIRTIO_F_RING_PACKED, VIRTIO_F_IN_ORDER);
    expect(netDeviceFeatures(config({ ctrlVq: true }))).toBe(base | ctrl);
    expect(netDeviceFeatures(config({ ctrlVq: true, queuePairs: 2 }))).toBe(base | ctrl | bits(N.VIRTIO_NET_F_MQ));
    expect(netDeviceFeatures(config({ ctrlVq: false, queuePairs: 4 }))).toBe(base);
  });

  it('maps each offload switch to its bit', () => {
    const bitOf: Readonly<Record<keyof NetOffloads, number>> = {
      csum: N.VIRTIO_NET_F_CSUM,
      guestCsum: N.VIRTIO_NET_F_GUEST_CSUM,
      hostTso4: N.VIRTIO_NET_F_HOST_TSO4,
      hostTso6: N.VIRTIO_NET_F_HOST_TSO6,
      hostEcn: N.VIRTIO_NET_F_HOST_ECN,
      hostUfo: N.VIRTIO_NET_F_HOST_UFO,
      guestTso4: N.VIRTIO_NET_F_GUEST_TSO4,
      guestTso6: N.VIRTIO_NET_F_GUEST_TSO6,
      guestEcn: N.VIRTIO_NET_F_GUEST_ECN,
      guestUfo: N.VIRTIO_NET_F_GUEST_UFO,
    };
    const f = netDeviceFeatures(config({ offloads: ALL_OFFLOADS }));
    for (const [key, b] of Object.entries(bitOf) as [keyof NetOffloads, number][]) {
      expect(f & featureBit(b), key).not.toBe(0n);
      expect(netDeviceFeatures(config({ offloads: { ...ALL_OFFLOADS, [key]: false } })) & featureBit(b), `${key} off`).toBe(0n);
    }
  });

  it('does not offer an offload whose requirement is switched off', () => {
    const f = netDeviceFeatures(config({ offloads: { ...ALL_OFFLOADS, csum: false, guestCsum: false } }));
    expect(f & bits(N.VIRTIO_NET_F_HOST_TSO4, N.VIRTIO_NET_F_HOST_ECN, N.VIRTIO_NET_F_GUEST_TSO4, N.VIRTIO_NET_F_GUEST_UFO)).toBe(0n);
  });
});

describe('guestOffloadFeatures', () => {
  it('keeps only the receive offload bits', () => {
    const f = bits(N.VIRTIO_NET_F_CSUM, N.VIRTIO_NET_F_GUEST_CSUM, N.VIRTIO_NET_F_GUEST_TSO4, N.VIRTIO_NET_F_GUEST_USO6, N.VIRTIO_NET_F_MAC);
    expect(guestOffloadFeatures(f)).toBe(bits(N.VIRTIO_NET_F_GUEST_CSUM, N.VIRTIO_NET_F_GUEST_TSO4, N.VIRTIO_NET_F_GUEST_USO6));
  });
});
