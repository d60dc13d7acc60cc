import { netBackendModule, type NetDeviceConfig, type NetDeviceProvider } from '@vnic/core';
import { fdPort, type ClosableFramePort } from '@vnic/driver';
import { Tap, writeFd } from '@vnic/sys';
import type { ContainerModule } from 'inversify';
import { LoopbackDevice } from '../conformance/LoopbackDevice.ts';

/**
 * TEST-ONLY: the LoopbackDevice with a real tap as its wire (frames pumped on the main thread, no
 * vnet header): a stand-in for a tap-backed backend, so the demo and the embedding example run
 * end to end before (and independently of) @vnic/virtio-net. The tap is created in create(),
 * named by the backend section's `tap`, and closed with the device.
 */
export class TapLoopbackDevice extends LoopbackDevice {
  readonly tap: Tap;
  private readonly port: ClosableFramePort;
  private pumping = true;
  private readonly pumps: Promise<void>[];

  constructor(config: NetDeviceConfig) {
    super(config);
    const name = typeof config.options['tap'] === 'string' ? config.options['tap'] : 'vtl%d';
    this.tap = Tap.open({ name, vnetHdr: false, nonBlocking: true });
    this.port = fdPort(this.tap.fds[0]!);
    this.pumps = [this.pumpIn(), this.pumpOut()];
  }

  protected override async closeBackend(): Promise<void> {
    this.pumping = false;
    await Promise.all(this.pumps);
    this.port.close();
    this.tap.close();
    await super.closeBackend();
  }

  private async pumpIn(): Promise<void> {
    while (this.pumping) {
      const frame = await this.port.receive(100);
      if (frame !== undefined && this.pumping) this.toGuest(frame);
    }
  }

  private async pumpOut(): Promise<void> {
    while (this.pumping) {
      try {
        const first = await this.waitFromGuest(1, 100);
        for (const f of [...first, ...this.fromGuest.splice(0)]) writeFd(this.tap.fds[0]!, f);
      } catch {
        // nothing from the guest within 100 ms
      }
    }
  }
}

/** A ContainerModule binding the tap-backed loopback under `name` (default `virtio-net`); `created` lists its devices. */
export function tapLoopbackBackend(name = 'virtio-net'): { module: ContainerModule; created: TapLoopbackDevice[] } {
  const created: TapLoopbackDevice[] = [];
  const provider: NetDeviceProvider = {
    backend: name,
    validateOptions: (o) => (o['tap'] === undefined || typeof o['tap'] === 'string' ? [] : [{ path: 'tap', message: 'must be a string' }]),
    create(config) {
      const d = new TapLoopbackDevice(config);
      created.push(d);
      return Promise.resolve(d);
    },
  };
  return { module: netBackendModule(name, () => provider), created };
}
