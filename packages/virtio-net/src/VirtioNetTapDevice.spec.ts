import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { DEFAULT_NET_OFFLOADS, hasFeature, type NetDeviceConfig } from '@vnic/core';
import * as N from '@vnic/core/virtio_net';
import { EventFd, Tap } from '@vnic/sys';
import { testNetConfig, thrownBy } from '@vnic/core/testing';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cleanupAfterEach, fdCount, hostTapPeer, uniqueName } from '@vnic/sys/testing';
import { VirtioNetError } from './VirtioNetError.ts';
import { VirtioNetTapDevice } from './VirtioNetTapDevice.ts';

function config(options: Record<string, unknown>, over: Partial<NetDeviceConfig> = {}): NetDeviceConfig {
  return testNetConfig({ id: 'spec0', backend: 'virtio-net', mac: Uint8Array.of(0x52, 0x54, 0, 0x7e, 0x10, 0x01), options, ...over });
}

const exists = (name: string): boolean => existsSync(`/sys/class/net/${name}`);
const sysfs = (name: string, attr: string): string => readFileSync(`/sys/class/net/${name}/${attr}`, 'utf8').trim();

const thrown = (fn: () => unknown): VirtioNetError => thrownBy(VirtioNetError, fn);

describe('VirtioNetTapDevice.open: the config section', () => {
  it('rejects a bad "virtio-net" section before touching any tap, naming the NIC and the fields', () => {
    const e = thrown(() => VirtioNetTapDevice.open(config({ tap: 'a/b', speed: 9 })));
    expect(e.kind).toBe('invalid-argument');
    expect(e.message).toMatch(
      /^spec0: invalid "virtio-net" section: speed: unknown field; allowed: tap, tapFds, persistent, ioThreads, txSqPoll; tap: "a\/b" is not an interface name/,
    );
  });
});

const peer = hostTapPeer();
const cleanups = cleanupAfterEach(afterEach);

describe.skipIf(peer.skip)('VirtioNetTapDevice on the host kernel', () => {
  beforeAll(() => {
    if (peer.reason !== undefined) throw new Error(`host kernel tap peer missing: ${peer.reason}`);
  });

  function open(cfg: NetDeviceConfig): VirtioNetTapDevice {
    const d = VirtioNetTapDevice.open(cfg);
    cleanups.push(() => d.close());
    return d;
  }

  it('creates a vnet-hdr multiqueue tap per NIC, sets the MTU, offers what the tap supports, and removes it on close', async () => {
    const name = uniqueName('vns');
    const d = VirtioNetTapDevice.open(config({ tap: name }, { queuePairs: 2, mtu: 1400 }));
    expect(d.tapName).toBe(name);
    expect(exists(name)).toBe(true);
    expect(sysfs(name, 'mtu')).toBe('1400');
    expect(sysfs(name, 'tun_flags')).toMatch(/^0x/);
    const flags = Number(sysfs(name, 'tun_flags'));
    expect(flags & 0x5102).toBe(0x5102); // IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_MULTI_QUEUE
    expect(d.queuePairs).toBe(2);
    expect(d.numQueues).toBe(5);
    const f = d.deviceFeatures;
    for (const b of [
      N.VIRTIO_NET_F_MQ,
      N.VIRTIO_NET_F_MTU,
      N.VIRTIO_NET_F_CSUM,
      N.VIRTIO_NET_F_GUEST_CSUM,
      N.VIRTIO_NET_F_GUEST_TSO4,
      N.VIRTIO_NET_F_HOST_TSO4,
    ]) {
      expect(hasFeature(f, b), `bit ${b}`).toBe(true);
    }
    expect(hasFeature(f, N.VIRTIO_NET_F_HOST_UFO)).toBe((d.tapOffloads & 0x10) !== 0);
    expect(d.stats().map((s) => s.index)).toEqual([0, 1, 2, 3, 4]);
    await d.close();
    await d.close();
    expect(exists(name)).toBe(false);
  });

  it('lets the kernel pick vnic%d by default and honours the config mask', () => {
    const d = open(config({}, { offloads: { ...DEFAULT_NET_OFFLOADS, guestTso4: false }, mrgRxbuf: false }));
    expect(d.tapName).toMatch(/^vnic\d+$/);
    expect(hasFeature(d.deviceFeatures, N.VIRTIO_NET_F_GUEST_TSO4)).toBe(false);
    expect(hasFeature(d.deviceFeatures, N.VIRTIO_NET_F_MRG_RXBUF)).toBe(false);
  });

  it('keeps a persistent tap after close and attaches to it by name', async () => {
    const name = uniqueName('vns');
    cleanups.push(() => {
      if (exists(name)) execFileSync('ip', ['link', 'del', name]);
    });
    const first = VirtioNetTapDevice.open(config({ tap: name, persistent: true }));
    await first.close();
    expect(exists(name)).toBe(true);
    const again = VirtioNetTapDevice.open(config({ tap: name }));
    expect(again.tapName).toBe(name);
    await again.close();
    expect(exists(name)).toBe(true); // persistence belongs to whoever set it
  });

  it('works on duplicates of handed-in tap fds: the VMM keeps its own', async () => {
    const vmm = Tap.open({ name: uniqueName('vns'), queues: 2 });
    cleanups.push(() => vmm.close());
    const before = fdCount.fds();
    const d = VirtioNetTapDevice.open(config({ tapFds: [...vmm.fds] }, { queuePairs: 2 }));
    expect(d.tapName).toBe(vmm.name);
    expect(fdCount.fds()).toBe(before + 2);
    await d.close();
    expect(fdCount.fds()).toBe(before);
    for (const fd of vmm.fds) expect(fdCount.isOpen(fd)).toBe(true);
    expect(exists(vmm.name)).toBe(true);
    // O_NONBLOCK is set on the shared open file (documented).
    expect(fdCount.flags(vmm.fds[0]!) & 0o4000).toBe(0o4000);
  });

  it('refuses handed-in fds that do not fit, and leaks none of its duplicates', () => {
    const before = fdCount.fds();
    const vmm = Tap.open({ name: uniqueName('vns'), queues: 2 });
    cleanups.push(() => vmm.close());
    let e = thrown(() => VirtioNetTapDevice.open(config({ tapFds: [vmm.fds[0]] }, { queuePairs: 2 })));
    expect(e.kind).toBe('invalid-argument');
    expect(e.message).toMatch(/tapFds has 1 fd\(s\) but the NIC has 2 queue pair\(s\)/);

    const ev = EventFd.create();
    cleanups.push(() => ev.close());
    e = thrown(() => VirtioNetTapDevice.open(config({ tapFds: [ev.fd] })));
    expect(e.message).toMatch(new RegExp(`tapFds\\[0\\] \\(fd ${ev.fd}\\) is not a tap queue fd: ioctl TUNGETIFF`));

    const plain = Tap.open({ name: uniqueName('vns'), vnetHdr: false });
    cleanups.push(() => plain.close());
    e = thrown(() => VirtioNetTapDevice.open(config({ tapFds: [plain.fds[0]] })));
    expect(e.message).toMatch(new RegExp(`tap ${plain.name} was opened with flags 0x[0-9a-f]+; it needs IFF_TAP\\|IFF_NO_PI\\|IFF_VNET_HDR`));

    e = thrown(() => VirtioNetTapDevice.open(config({ tapFds: [9999] })));
    expect(e.message).toMatch(/cannot use fd 9999: fcntl F_DUPFD_CLOEXEC fd 9999: EBADF/);
    expect(fdCount.fds()).toBe(before + 2 + 1 + 1); // the VMM's taps and eventfd only
  });

  it('names the NIC, the tap and the call when the kernel refuses, and leaves no tap behind', () => {
    const e = thrown(() => VirtioNetTapDevice.open(config({ tap: 'lo' })));
    expect(e.kind).toBe('tap');
    expect(e.message).toMatch(/^spec0: cannot open tap lo: ioctl TUNSETIFF lo: E[A-Z]+ \(\d+\) — /);
    expect((e.cause as { request?: string }).request).toBe('TUNSETIFF');

    const name = uniqueName('vns');
    const m = thrown(() => VirtioNetTapDevice.open(config({ tap: name }, { mtu: 70_000 })));
    expect(m.kind).toBe('tap');
    expect(m.message).toMatch(new RegExp(`^spec0: tap ${name}: cannot set the MTU to 70000: ioctl SIOCSIFMTU ${name}: EINVAL`));
    expect(exists(name)).toBe(false);

    // A config NetDeviceBase refuses: the tap opened for it is closed again.
    expect(() => VirtioNetTapDevice.open(config({ tap: name }, { queueSize: 3 }))).toThrow(/queueSize 3 is not a power of two/);
    expect(exists(name)).toBe(false);
  });
});
