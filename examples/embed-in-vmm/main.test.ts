import { readdirSync } from 'node:fs';
import { containerBackends, createVnicContainer } from '@vnic/config';
import { netBackendModule, type NetDeviceProvider } from '@vnic/core';
import { netnsSupport, runCommand } from '@vnic/cli';
import { GuestNetStack, type FramePort } from '@vnic/driver';
import { describe, expect, it } from 'vitest';
import { tapLoopbackBackend } from '../../test/backends/tapLoopbackBackend.ts';
import { LoopbackDevice } from '../../test/conformance/LoopbackDevice.ts';
import { main, type MainOptions } from './main.ts';
import type { Peer } from './Peer.ts';

const fds = (): number => readdirSync('/proc/self/fd').length;

/** TEST-ONLY backend: the loopback device, its outside answered by a second GuestNetStack (the "host"). */
function loopbackSetup(): Pick<MainOptions, 'config' | 'container' | 'peer'> {
  const provider: NetDeviceProvider = { backend: 'loopback', validateOptions: () => [], create: async (config) => new LoopbackDevice(config) };
  return {
    config: { net: [{ id: 'lo0', backend: 'loopback', mac: '52:54:00:00:0e:02', queuePairs: 2 }] },
    container: createVnicContainer([netBackendModule('loopback', () => provider)]),
    async peer(nic): Promise<Peer> {
      const device = nic.device as LoopbackDevice;
      const wire: FramePort = {
        send: (frame) => (device.toGuest(frame), true),
        receive: async (timeoutMs) => (await device.waitFromGuest(1, timeoutMs).catch(() => []))[0],
      };
      const host = new GuestNetStack(wire, { mac: '02:00:00:00:0e:01', ip: '10.9.0.1' });
      let serving = true;
      const loop = (async () => {
        while (serving) await host.serve(20);
      })();
      return {
        ip: '10.9.0.1',
        guestIp: '10.9.0.2',
        close: async () => {
          serving = false;
          await loop;
        },
      };
    },
  };
}

const reason = await netnsSupport();
const skip = reason !== undefined && (process.env['CI'] ?? '') === '';
if (skip) console.warn(`[examples/embed-in-vmm] skipping the tap runs: ${reason}`);
const shipped = containerBackends(createVnicContainer()).names.includes('virtio-net');
if (!shipped) console.warn('[examples/embed-in-vmm] skipping the run over the shipped backends: virtio-net is not in defaultBackendModules()');

describe('examples/embed-in-vmm', () => {
  it('boots a NIC chosen by config (a test-only loopback backend), moves frames, and releases every fd', async () => {
    const lines: string[] = [];
    await main({ ...loopbackSetup(), log: () => {} }); // warm-up: lazily created fds of node itself
    const before = fds();
    const result = await main({ ...loopbackSetup(), pings: 3, log: (l) => lines.push(l) });
    expect(fds()).toBe(before);
    const [nic] = result.nics;
    expect(nic).toMatchObject({ id: 'lo0', backend: 'loopback', peerMac: '02:00:00:00:0e:01' });
    expect(nic!.rtts).toHaveLength(3);
    // The device moved the ARP request + 3 echo requests out, ARP reply + 3 echo replies in.
    const tx = nic!.stats.filter((s) => s.index % 2 === 1 && s.index < 4).reduce((n, s) => n + s.packets, 0);
    const rx = nic!.stats.filter((s) => s.index % 2 === 0 && s.index < 4).reduce((n, s) => n + s.packets, 0);
    expect(tx).toBeGreaterThanOrEqual(4);
    expect(rx).toBeGreaterThanOrEqual(4);
    expect(nic!.mmioExits).toBeGreaterThan(50); // the whole virtio-mmio probe went through the VMM's exits
    expect(lines.join('\n')).toMatch(/lo0: loopback NIC at MMIO 0xd0000000, IRQ 5, 5 queues/);
    expect(lines.join('\n')).toMatch(/lo0: guest driver up \(DRIVER_OK\)/);
    expect(lines.at(-1)).toMatch(/shut down/);
  });

  it.skipIf(skip)('runs as shipped (vm-config.json, tap peer in a namespace) over a tap-backed test backend', async () => {
    if (reason !== undefined) throw new Error(`the host kernel peer is not available: ${reason}`);
    await runCommand('true', []); // warm-up: node's child-process machinery keeps a few fds
    const before = fds();
    const backend = tapLoopbackBackend('virtio-net');
    const result = await main({ container: createVnicContainer([backend.module]), pings: 2, log: () => {} });
    expect(result.nics).toHaveLength(1);
    expect(result.nics[0]).toMatchObject({ id: 'net0', backend: 'virtio-net' });
    expect(result.nics[0]!.rtts).toHaveLength(2);
    expect(backend.created[0]!.tap.closed).toBe(true);
    expect(fds()).toBe(before);
  });

  it.skipIf(skip || !shipped)('runs exactly as shipped: main() with the default container (the virtio-net backend)', async () => {
    if (reason !== undefined) throw new Error(`the host kernel peer is not available: ${reason}`);
    await runCommand('true', []);
    const before = fds();
    const lines: string[] = [];
    const result = await main({ log: (l) => lines.push(l) });
    expect(result.nics[0]).toMatchObject({ id: 'net0', backend: 'virtio-net' });
    expect(result.nics[0]!.rtts).toHaveLength(3);
    expect(result.nics[0]!.stats[1]!.packets).toBeGreaterThanOrEqual(4); // ARP request + 3 echo requests out
    expect(result.nics[0]!.stats[0]!.packets).toBeGreaterThanOrEqual(4); // ARP reply + 3 echo replies in
    expect(lines.at(-1)).toMatch(/shut down/);
    expect(fds()).toBe(before);
  });

  it('fails with the config error when the backend is not loaded, leaking nothing', async () => {
    const before = fds();
    await expect(main({ container: createVnicContainer([]), log: () => {} })).rejects.toThrow(/net\[0\]\.backend: unknown backend "virtio-net"/);
    expect(fds()).toBe(before);
  });
});
