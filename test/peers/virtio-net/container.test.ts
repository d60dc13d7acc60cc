import { existsSync } from 'node:fs';
import { ConfigError, createNetDevices, createVnicContainer } from '@vnic/config';
import { VirtioNetDriver } from '@vnic/driver';
import { VirtioNetTapDevice } from '@vnic/virtio-net';
import { beforeAll, describe, expect, it } from 'vitest';
import { hostTapPeer, uniqueName } from '@vnic/sys/testing';

// The backend as a VMM gets it: through @vnic/config's default container.

describe('virtio-net in the default container', () => {
  it('is a known backend whose section is validated with field paths', async () => {
    const err = await createNetDevices(
      { net: [{ id: 'c0', backend: 'virtio-net', mac: '52:54:00:7e:20:01', 'virtio-net': { tap: 'no/slash', tapFds: [-1] } }] },
      { container: createVnicContainer(), source: 'vm.json' },
    ).catch((e: unknown) => e);
    expect(ConfigError.is(err)).toBe(true);
    expect((err as ConfigError).issues).toEqual([
      { path: 'net[0].virtio-net.tap', message: expect.stringMatching(/not an interface name/) },
      { path: 'net[0].virtio-net.tapFds[0]', message: expect.stringMatching(/file descriptor number/) },
      { path: 'net[0].virtio-net.tapFds', message: expect.stringMatching(/cannot be combined with "tap"/) },
    ]);
  });
});

const peer = hostTapPeer();

describe.skipIf(peer.skip)('virtio-net from a VM config on the host kernel', () => {
  beforeAll(() => {
    if (peer.reason !== undefined) throw new Error(`host kernel tap peer missing: ${peer.reason}`);
  });

  it('createNetDevices builds a VirtioNetTapDevice a driver can bring up; close removes its tap', async () => {
    const tap = uniqueName('vnc');
    const [nic] = await createNetDevices({
      net: [{ id: 'c1', backend: 'virtio-net', mac: '52:54:00:7e:20:02', queuePairs: 2, mtu: 1500, 'virtio-net': { tap } }],
    });
    expect(nic).toBeInstanceOf(VirtioNetTapDevice);
    expect((nic as VirtioNetTapDevice).tapName).toBe(tap);
    const driver = await VirtioNetDriver.create({ device: nic! });
    expect(driver.queuePairs).toBe(2);
    expect(nic!.activated).toBe(true);
    await driver.close();
    await nic!.close();
    expect(existsSync(`/sys/class/net/${tap}`)).toBe(false);
  });
});
