import { existsSync } from 'node:fs';
import { ConfigError, createNetDevices } from '@vnic/config';
import { VirtioNetDriver } from '@vnic/driver';
import { describe, expect, it } from 'vitest';
import { hostTapPeer, needsPeer, uniqueName } from '@vnic/sys/testing';

// The real backends through the default container, on a host WITHOUT vhost_net (this machine's
// kernel): `backend: "vhost-net"` fails clearly, and `fallback: "virtio-net"` gets the in-process
// backend with a warning that says so.
const peer = hostTapPeer();
const noVhost = needsPeer(
  'vhost-net fallback tests',
  existsSync('/dev/vhost-net') ? 'this host has /dev/vhost-net (the tests need a host without vhost_net)' : undefined,
);

describe.skipIf(peer.skip || noVhost.skip)('vhost-net on a host without /dev/vhost-net (default backends)', () => {
  it('fails with the module hint when no fallback is named', async () => {
    if (peer.reason !== undefined) throw new Error(`host kernel tap peer missing: ${peer.reason}`);
    const err = await createNetDevices({ net: [{ id: 'vn0', backend: 'vhost-net', mac: '52:54:00:7e:30:01' }] }).catch((e: unknown) => e);
    expect(ConfigError.is(err)).toBe(true);
    expect((err as ConfigError).kind).toBe('create-failed');
    expect((err as Error).message).toMatch(
      /^net\[0\] \(vn0\): backend "vhost-net" could not create the device: vn0: \/dev\/vhost-net not found: load the vhost_net module/,
    );
  });

  it('falls back to virtio-net with a warning, and the fallback device works', async () => {
    if (peer.reason !== undefined) throw new Error(`host kernel tap peer missing: ${peer.reason}`);
    const tap = uniqueName('vnfb');
    const warnings: string[] = [];
    const [device] = await createNetDevices(
      { net: [{ id: 'vn1', backend: 'vhost-net', fallback: 'virtio-net', mac: '52:54:00:7e:30:02', 'vhost-net': { tap: 'unused0' }, 'virtio-net': { tap } }] },
      { onWarning: (m) => warnings.push(m) },
    );
    try {
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(
        /^net\[0\] \(vn1\): backend "vhost-net" is unavailable \(vn1: \/dev\/vhost-net not found: load the vhost_net module .*\); using fallback "virtio-net"$/,
      );
      expect(device!.backend).toBe('virtio-net');
      expect(existsSync(`/sys/class/net/${tap}`)).toBe(true); // the fallback's own section was used
      const driver = await VirtioNetDriver.create({ device: device! });
      expect(device!.activated).toBe(true);
      await driver.close();
    } finally {
      await device?.close();
    }
    expect(existsSync(`/sys/class/net/${tap}`)).toBe(false);
  });
});
