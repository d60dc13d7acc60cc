import { ConfigError, createNetDevices, createVnicContainer, loadVmConfig } from '@vnic/config';
import { VnicError, netBackendModule, type NetDeviceProvider } from '@vnic/core';
import { VirtioNetDriver } from '@vnic/driver';
import { describe, expect, it } from 'vitest';
import { LoopbackDevice } from '../conformance/LoopbackDevice.ts';

/** Test-only backends: a loopback device under any name, optionally "unavailable on this host". */
function loopbackBackend(name: string, opts: { unavailable?: boolean; fail?: boolean } = {}) {
  const created: LoopbackDevice[] = [];
  const provider: NetDeviceProvider = {
    backend: name,
    validateOptions: (o) => (o['tap'] === undefined || typeof o['tap'] === 'string' ? [] : [{ path: 'tap', message: 'must be a string' }]),
    async create(config) {
      if (opts.unavailable) throw new VnicError('unavailable', `/dev/${name} not found: load the module`);
      if (opts.fail) throw new VnicError('sys', `${name} exploded`);
      const d = new LoopbackDevice(config);
      created.push(d);
      return d;
    },
  };
  return { module: netBackendModule(name, () => provider), created };
}

const exampleUrl = new URL('../../examples/vm-config.json', import.meta.url);

describe('createNetDevices (composition root)', () => {
  it('builds one device per entry of examples/vm-config.json through the container', async () => {
    const backends = ['virtio-net', 'vhost-net', 'vhost-user'].map((n) => loopbackBackend(n));
    const container = createVnicContainer(backends.map((b) => b.module));
    const devices = await createNetDevices(await loadVmConfig(exampleUrl.pathname), { container });
    try {
      expect(devices.map((d) => [d.id, d.backend])).toEqual([
        ['net0', 'virtio-net'],
        ['net1', 'vhost-net'],
        ['net2', 'vhost-user'],
      ]);
      expect(devices[0]!.queuePairs).toBe(2);
      expect(devices[2]!.queueMaxSize).toBe(1024);
      // The device is real: a driver can negotiate with it and move a frame.
      const driver = await VirtioNetDriver.create({ device: devices[0]! });
      expect(driver.queuePairs).toBe(2);
      await driver.close();
    } finally {
      await Promise.all(devices.map((d) => d.close()));
    }
  });

  it('lists the known backends when the config names another one', async () => {
    const container = createVnicContainer([loopbackBackend('virtio-net').module, loopbackBackend('vhost-user').module]);
    const err = await createNetDevices({ net: [{ id: 'a', backend: 'vhost-net', mac: '52:54:00:00:00:01' }] }, { container, source: 'vm.json' }).catch(
      (e: unknown) => e,
    );
    expect(ConfigError.is(err)).toBe(true);
    expect((err as ConfigError).kind).toBe('invalid-config');
    expect((err as ConfigError).message).toContain('vm.json is invalid');
    expect((err as ConfigError).issues).toEqual([
      { path: 'net[0].backend', message: 'unknown backend "vhost-net"; known backends: "vhost-user", "virtio-net"' },
    ]);
  });

  it('falls back with a warning when the backend is unavailable on this host', async () => {
    const primary = loopbackBackend('vhost-net', { unavailable: true });
    const fallback = loopbackBackend('virtio-net');
    const warnings: string[] = [];
    const devices = await createNetDevices(
      { net: [{ id: 'n1', backend: 'vhost-net', fallback: 'virtio-net', mac: '52:54:00:00:00:02', 'virtio-net': { tap: 'x' } }] },
      { container: createVnicContainer([primary.module, fallback.module]), onWarning: (m) => warnings.push(m) },
    );
    expect(devices[0]!.backend).toBe('virtio-net');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/net\[0\] \(n1\): backend "vhost-net" is unavailable .*load the module.*using fallback "virtio-net"/);
    await devices[0]!.close();
  });

  it('does not fall back on other failures, and closes the devices already built', async () => {
    const good = loopbackBackend('virtio-net');
    const bad = loopbackBackend('vhost-user', { fail: true });
    const err = await createNetDevices(
      {
        net: [
          { id: 'ok', backend: 'virtio-net', mac: '52:54:00:00:00:03' },
          { id: 'boom', backend: 'vhost-user', fallback: 'virtio-net', mac: '52:54:00:00:00:04' },
        ],
      },
      { container: createVnicContainer([good.module, bad.module]) },
    ).catch((e: unknown) => e as ConfigError);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).kind).toBe('create-failed');
    expect((err as ConfigError).message).toMatch(/net\[1\] \(boom\): backend "vhost-user" could not create the device: vhost-user exploded/);
    expect(VnicError.is((err as ConfigError).cause)).toBe(true);
    expect(good.created).toHaveLength(1);
    // closed: activate is refused on a closed device
    await expect(good.created[0]!.activate({ features: 0n, memory: { regions: [] }, queues: [] })).rejects.toThrow(/closed device/);
  });

  it('names the file when the config cannot be read or parsed', async () => {
    await expect(loadVmConfig('/nonexistent/vm.json')).rejects.toThrow(/cannot read VM config \/nonexistent\/vm.json: ENOENT/);
  });
});
