import { existsSync } from 'node:fs';
import { featureBit, hasFeature, VIRTIO_F_EVENT_IDX, VIRTIO_F_VERSION_1, type NetDeviceConfig } from '@vnic/core';
import * as N from '@vnic/core/virtio_net';
import { TUN_F_CSUM, TUN_F_TSO4, TUN_F_UFO } from '@vnic/sys';
import { testNetConfig, thrownBy } from '@vnic/core/testing';
import { describe, expect, it } from 'vitest';
import { fdCount, needsPeer } from '@vnic/sys/testing';
import { validateVhostNetOptions } from './validateVhostNetOptions.ts';
import { VHOST_NET_RING_FEATURES } from './VHOST_NET_RING_FEATURES.ts';
import { VhostNetDevice } from './VhostNetDevice.ts';
import { VhostNetError } from './VhostNetError.ts';

// Host-side specs. The kernel data plane itself is tested inside a VM (test/vm/vhost-net).

function config(options: Record<string, unknown>, over: Partial<NetDeviceConfig> = {}): NetDeviceConfig {
  return testNetConfig({ id: 'vhn0', backend: 'vhost-net', mac: Uint8Array.of(0x52, 0x54, 0, 0x7e, 0x20, 0x01), options, ...over });
}

const thrown = (fn: () => unknown): VhostNetError => thrownBy(VhostNetError, fn);

describe('validateVhostNetOptions', () => {
  it('accepts the tap fields and vhostFds', () => {
    expect(validateVhostNetOptions({})).toEqual([]);
    expect(validateVhostNetOptions({ tap: 'vnic%d', persistent: true })).toEqual([]);
    expect(validateVhostNetOptions({ tapFds: [5, 6], vhostFds: [7, 8] })).toEqual([]);
  });
  it('names every bad field by its path inside the section', () => {
    expect(validateVhostNetOptions({ socket: 'x', tap: 'a/b', vhostFds: [3, 'x', 3] })).toEqual([
      { path: 'socket', message: 'unknown field; allowed: tap, tapFds, persistent, vhostFds' },
      { path: 'tap', message: expect.stringMatching(/not an interface name/) },
      { path: 'vhostFds[1]', message: expect.stringMatching(/file descriptor number/) },
      { path: 'vhostFds[2]', message: 'fd 3 is listed twice' },
    ]);
    expect(validateVhostNetOptions({ vhostFds: [] })).toEqual([
      { path: 'vhostFds', message: expect.stringMatching(/array of 1\.\.256 fds, one \/dev\/vhost-net fd per queue pair/) },
    ]);
    expect(validateVhostNetOptions({ tapFds: [4], vhostFds: [5, 6] })).toEqual([
      { path: 'vhostFds', message: 'has 2 fd(s) but tapFds has 1: both take one fd per queue pair' },
    ]);
  });
});

describe('VhostNetDevice.backendMask', () => {
  it('keeps the ring features the kernel has, the tap offloads and vnic-side features', () => {
    const kernel = 0x33d008000n; // what Debian 6.1's vhost_net answers
    const m = VhostNetDevice.backendMask(kernel, TUN_F_CSUM | TUN_F_TSO4);
    expect(m & VHOST_NET_RING_FEATURES).toBe(VHOST_NET_RING_FEATURES);
    for (const b of [
      N.VIRTIO_NET_F_CTRL_VQ,
      N.VIRTIO_NET_F_MQ,
      N.VIRTIO_NET_F_CSUM,
      N.VIRTIO_NET_F_GUEST_CSUM,
      N.VIRTIO_NET_F_GUEST_TSO4,
      N.VIRTIO_NET_F_STATUS,
    ]) {
      expect(hasFeature(m, b), `bit ${b}`).toBe(true);
    }
    expect(hasFeature(m, N.VIRTIO_NET_F_GUEST_TSO6)).toBe(false); // the tap did not take TSO6
    expect(hasFeature(m, N.VIRTIO_NET_F_GUEST_UFO)).toBe(false);
    expect(hasFeature(VhostNetDevice.backendMask(kernel, TUN_F_CSUM | TUN_F_UFO), N.VIRTIO_NET_F_GUEST_UFO)).toBe(true);
  });
  it('drops what the kernel lacks', () => {
    const noEventIdx = 0x33d008000n & ~featureBit(VIRTIO_F_EVENT_IDX) & ~featureBit(N.VIRTIO_NET_F_MRG_RXBUF);
    const m = VhostNetDevice.backendMask(noEventIdx, 0);
    expect(hasFeature(m, VIRTIO_F_EVENT_IDX)).toBe(false);
    expect(hasFeature(m, N.VIRTIO_NET_F_MRG_RXBUF)).toBe(false);
    expect(hasFeature(m, VIRTIO_F_VERSION_1)).toBe(true);
    expect(hasFeature(VhostNetDevice.backendMask(0n, 0), VIRTIO_F_VERSION_1)).toBe(false);
  });
});

const withoutVhostNet = needsPeer('VhostNetDevice without vhost_net', existsSync('/dev/vhost-net') ? 'this host has /dev/vhost-net' : undefined);

describe.skipIf(withoutVhostNet.skip)('VhostNetDevice on a host without vhost_net', () => {
  it('fails with kind unavailable and says to load the module, leaking nothing', () => {
    const before = fdCount.fds();
    const e = thrown(() => VhostNetDevice.open(config({ tap: 'vhn-never' }, { queuePairs: 2 })));
    expect(e.kind).toBe('unavailable');
    expect(e.message).toMatch(/^vhn0: \/dev\/vhost-net not found: load the vhost_net module \(open \/dev\/vhost-net: ENOENT \(2\)/);
    expect((e.cause as { syscall?: string }).syscall).toBe('open');
    expect(existsSync('/sys/class/net/vhn-never')).toBe(false); // no tap was created before the vhost fd
    expect(fdCount.fds()).toBe(before);
  });

  it('refuses a bad section before opening anything', () => {
    const e = thrown(() => VhostNetDevice.open(config({ vhostFds: [-1] })));
    expect(e.kind).toBe('invalid-argument');
    expect(e.message).toMatch(/^vhn0: invalid "vhost-net" section: vhostFds\[0\]: must be a file descriptor number/);
  });

  it('refuses handed-in fds that are not /dev/vhost-net fds, closing its duplicates', async () => {
    const { EventFd } = await import('@vnic/sys');
    const ev = EventFd.create();
    try {
      const before = fdCount.fds();
      const e = thrown(() => VhostNetDevice.open(config({ vhostFds: [ev.fd] })));
      expect(e.kind).toBe('invalid-argument');
      expect(e.message).toMatch(new RegExp(`"vhost-net".vhostFds\\[0\\] \\(fd ${ev.fd}\\) is not a /dev/vhost-net fd: ioctl VHOST_GET_FEATURES .*ENOTTY`));
      expect(thrown(() => VhostNetDevice.open(config({ vhostFds: [ev.fd, 9999] }))).message).toMatch(/vhostFds has 2 fd\(s\) but the NIC has 1 queue pair/);
      expect(fdCount.fds()).toBe(before);
      expect(fdCount.isOpen(ev.fd)).toBe(true);
    } finally {
      ev.close();
    }
  });
});
