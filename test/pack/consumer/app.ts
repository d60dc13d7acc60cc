// A TypeScript VMM consuming the published packages the way the README shows. test/pack compiles
// it with tsc against the installed tarballs (moduleResolution node16 and bundler, no skipLibCheck,
// no allowImportingTsExtensions): zero errors expected.
import 'reflect-metadata';
import { createNetDevices, createVnicContainer, defineVmConfig, type VmConfigInput } from '@vnic/config';
import { VirtioMmioTransport, type VirtioNetDevice } from '@vnic/core';
import { VirtioNetDriver } from '@vnic/driver';

// Defaulted fields (queueSize, mtu, offloads, ...) left out: still a valid input.
const config = defineVmConfig({
  net: [
    { id: 'net0', backend: 'virtio-net', mac: '52:54:00:12:34:01', queuePairs: 2, 'virtio-net': { tap: 'vnic-net0' } },
    { id: 'net1', backend: 'vhost-user', mac: '52:54:00:12:34:03', 'vhost-user': { socket: '/run/vnic/net1.sock', mode: 'client' } },
  ],
});

// The types are real, not `any`: a string where the schema wants a number is refused.
// @ts-expect-error queuePairs must be a number
const wrong: VmConfigInput = { net: [{ id: 'n', backend: 'virtio-net', mac: '52:54:00:00:00:01', queuePairs: 'two' }] };

export async function start(): Promise<number> {
  const devices: VirtioNetDevice[] = await createNetDevices(config, { container: createVnicContainer(), source: 'app.ts' });
  const nic = devices[0];
  if (nic === undefined) return 0;
  const driver = await VirtioNetDriver.create({ device: nic });
  const sent: boolean = driver.send(new Uint8Array(60));
  await driver.close();
  await Promise.all(devices.map((d) => d.close()));
  void VirtioMmioTransport;
  void wrong;
  return sent ? devices.length : -1;
}
