import { featureBit, hasFeature, VIRTIO_F_EVENT_IDX, VIRTIO_F_INDIRECT_DESC, VIRTIO_F_VERSION_1 } from '@vnic/core';
import * as N from '@vnic/core/virtio_net';
import { TUN_F_CSUM, TUN_F_TSO4, TUN_F_TSO6, TUN_F_TSO_ECN, TUN_F_UFO, TUN_F_USO4, TUN_F_USO6 } from '../linux/if_tun.ts';
import { describe, expect, it } from 'vitest';
import { tapBackendFeatures } from './tapBackendFeatures.ts';
import { tunOffloadFlags } from './tunOffloadFlags.ts';

const ALL_TUN = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN | TUN_F_UFO | TUN_F_USO4 | TUN_F_USO6;
const bits = (...b: number[]): bigint => b.reduce((m, x) => m | featureBit(x), 0n);
const GUEST_ALL = bits(N.VIRTIO_NET_F_GUEST_CSUM, N.VIRTIO_NET_F_GUEST_TSO4, N.VIRTIO_NET_F_GUEST_TSO6, N.VIRTIO_NET_F_GUEST_ECN, N.VIRTIO_NET_F_GUEST_UFO);

describe('tapBackendFeatures', () => {
  it('offers the ring, control-queue, MQ and host offload features whatever the tap', () => {
    const f = tapBackendFeatures(0);
    for (const b of [
      VIRTIO_F_VERSION_1,
      VIRTIO_F_EVENT_IDX,
      VIRTIO_F_INDIRECT_DESC,
      N.VIRTIO_NET_F_MRG_RXBUF,
      N.VIRTIO_NET_F_CSUM,
      N.VIRTIO_NET_F_HOST_TSO4,
      N.VIRTIO_NET_F_HOST_TSO6,
      N.VIRTIO_NET_F_HOST_ECN,
      N.VIRTIO_NET_F_CTRL_VQ,
      N.VIRTIO_NET_F_CTRL_RX,
      N.VIRTIO_NET_F_CTRL_RX_EXTRA,
      N.VIRTIO_NET_F_CTRL_VLAN,
      N.VIRTIO_NET_F_CTRL_MAC_ADDR,
      N.VIRTIO_NET_F_CTRL_GUEST_OFFLOADS,
      N.VIRTIO_NET_F_MQ,
      N.VIRTIO_NET_F_MTU,
      N.VIRTIO_NET_F_STATUS,
      N.VIRTIO_NET_F_GUEST_ANNOUNCE,
      N.VIRTIO_NET_F_MAC,
    ]) {
      expect(hasFeature(f, b), `bit ${b}`).toBe(true);
    }
    expect(f & GUEST_ALL).toBe(0n);
    expect(hasFeature(f, N.VIRTIO_NET_F_HOST_UFO)).toBe(false);
  });

  it('adds each receive offload the tap can pass up, UFO both ways only with TUN_F_UFO', () => {
    expect(tapBackendFeatures(ALL_TUN) & GUEST_ALL).toBe(GUEST_ALL);
    expect(hasFeature(tapBackendFeatures(ALL_TUN), N.VIRTIO_NET_F_HOST_UFO)).toBe(true);
    const noUfo = tapBackendFeatures(ALL_TUN & ~TUN_F_UFO);
    expect(hasFeature(noUfo, N.VIRTIO_NET_F_GUEST_UFO) || hasFeature(noUfo, N.VIRTIO_NET_F_HOST_UFO)).toBe(false);
    expect(tapBackendFeatures(TUN_F_CSUM | TUN_F_TSO4) & GUEST_ALL).toBe(bits(N.VIRTIO_NET_F_GUEST_CSUM, N.VIRTIO_NET_F_GUEST_TSO4));
    // Without TUN_F_CSUM the kernel accepts no other offload either.
    expect(tapBackendFeatures(TUN_F_TSO4 | TUN_F_UFO) & GUEST_ALL).toBe(0n);
    // USO is not offered (the guest-side driver and this backend do not implement it).
    expect(hasFeature(tapBackendFeatures(ALL_TUN), N.VIRTIO_NET_F_GUEST_USO4)).toBe(false);
  });
});

describe('tunOffloadFlags', () => {
  it('maps the guest receive offloads to TUNSETOFFLOAD flags, within what the tap supports', () => {
    expect(tunOffloadFlags(GUEST_ALL, ALL_TUN)).toBe(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN | TUN_F_UFO);
    expect(tunOffloadFlags(0n, ALL_TUN)).toBe(0);
    expect(tunOffloadFlags(bits(N.VIRTIO_NET_F_GUEST_CSUM), ALL_TUN)).toBe(TUN_F_CSUM);
    expect(tunOffloadFlags(bits(N.VIRTIO_NET_F_GUEST_CSUM, N.VIRTIO_NET_F_GUEST_TSO6), ALL_TUN)).toBe(TUN_F_CSUM | TUN_F_TSO6);
    expect(tunOffloadFlags(GUEST_ALL, TUN_F_CSUM | TUN_F_TSO4)).toBe(TUN_F_CSUM | TUN_F_TSO4);
  });

  it('never sets a flag without the one the kernel requires for it', () => {
    // TSO without CSUM: the kernel refuses (EINVAL), so nothing is set.
    expect(tunOffloadFlags(bits(N.VIRTIO_NET_F_GUEST_TSO4, N.VIRTIO_NET_F_GUEST_UFO), ALL_TUN)).toBe(0);
    // ECN without TSO4/TSO6.
    expect(tunOffloadFlags(bits(N.VIRTIO_NET_F_GUEST_CSUM, N.VIRTIO_NET_F_GUEST_ECN), ALL_TUN)).toBe(TUN_F_CSUM);
    // A tap without CSUM support takes nothing.
    expect(tunOffloadFlags(GUEST_ALL, 0)).toBe(0);
  });
});
