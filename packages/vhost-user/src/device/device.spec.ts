import { featureBit, virtio_net } from '@vnic/core';
import { describe, expect, it } from 'vitest';
import { parseVhostUserOptions } from './parseVhostUserOptions.ts';
import { VhostUserNetDevice } from './VhostUserNetDevice.ts';

describe('parseVhostUserOptions', () => {
  it('applies defaults', () => {
    expect(parseVhostUserOptions({ socket: '/run/vnic/net0.sock' })).toEqual({
      options: { socket: '/run/vnic/net0.sock', mode: 'client', reconnect: true, connectTimeoutMs: 5000, replyTimeoutMs: 5000 },
      issues: [],
    });
  });

  it('names every bad field', () => {
    const { options, issues } = parseVhostUserOptions({ mode: 'both', reconnect: 'yes', connectTimeoutMs: -1, replyTimeoutMs: 1.5, sock: 'x' });
    expect(options).toBeUndefined();
    expect(issues.map((i) => i.path).sort()).toEqual(['connectTimeoutMs', 'mode', 'reconnect', 'replyTimeoutMs', 'sock', 'socket']);
    expect(issues.find((i) => i.path === 'socket')?.message).toMatch(/required/);
    expect(issues.find((i) => i.path === 'sock')?.message).toMatch(/unknown key; allowed keys: socket, mode/);
    expect(parseVhostUserOptions({ socket: 'x'.repeat(108) }).issues[0]?.message).toMatch(/107 bytes/);
  });
});

describe('backend feature mask', () => {
  const offer = 0xd7c66e7cbn; // DPDK 22.11 testpmd's GET_FEATURES
  it("keeps vnic's own features and takes the backend's offer for its data-plane features", () => {
    const mask = VhostUserNetDevice.backendMask({ features: offer, protocolFeatures: 0n, queueNum: 128 }, 2);
    for (const own of [virtio_net.VIRTIO_NET_F_MAC, virtio_net.VIRTIO_NET_F_STATUS, virtio_net.VIRTIO_NET_F_CTRL_VQ, virtio_net.VIRTIO_NET_F_CTRL_VLAN]) {
      expect(mask & featureBit(own)).not.toBe(0n);
    }
    expect(mask & featureBit(virtio_net.VIRTIO_NET_F_HOST_TSO4)).toBe(0n); // testpmd's port has tso=0
    expect(mask & featureBit(virtio_net.VIRTIO_NET_F_MRG_RXBUF)).not.toBe(0n);
    expect(mask & featureBit(virtio_net.VIRTIO_NET_F_MQ)).not.toBe(0n);
    // Data-plane bits testpmd does not offer stay out (virtio 1.2 bit numbers): HOST_TSO4 11,
    // HOST_TSO6 12, NOTIFY_ON_EMPTY 24, ACCESS_PLATFORM 33; the ones it offers stay in: GUEST_CSUM 1,
    // GSO 6, EVENT_IDX 29, VERSION_1 32.
    for (const bit of [11n, 12n, 24n, 33n]) expect((mask >> bit) & 1n, `bit ${bit}`).toBe(0n);
    for (const bit of [1n, 6n, 29n, 32n]) expect((mask >> bit) & 1n, `bit ${bit}`).toBe(1n);
  });
  it('drops MQ when the backend has fewer queue pairs than the config', () => {
    expect(VhostUserNetDevice.backendMask({ features: offer, protocolFeatures: 0n, queueNum: 1 }, 2) & featureBit(virtio_net.VIRTIO_NET_F_MQ)).toBe(0n);
  });
});
