import 'reflect-metadata';
import { NET_DEVICE_PROVIDER, type NetDeviceProvider } from '@vnic/core';
import { readFd, writeFd } from '@vnic/sys';
import { Container } from 'inversify';
import { describeVirtioNetDevice } from '../../test/conformance/describeVirtioNetDevice.ts';
import { isTestFrame } from '../../test/conformance/frames.ts';
import { DgramNetDevice } from './DgramNetDevice.ts';
import { dgramBackendModule } from './dgramBackendModule.ts';

// The shared conformance suite, run against a backend that lives outside vnic's packages and is
// found through its ContainerModule like any other. The "outside" of the NIC is the peer end of
// the socketpair: frames written there reach the guest, frames the guest sent are read there.
const container = new Container();
container.load(dgramBackendModule());
const provider = container.get<NetDeviceProvider>(NET_DEVICE_PROVIDER, { name: 'dgram' });

describeVirtioNetDevice({
  backend: 'dgram',
  async setup(config) {
    const device = (await provider.create(config)) as DgramNetDevice;
    const buf = new Uint8Array(65536);
    return {
      device,
      toGuest: async (frame) => {
        writeFd(device.peerFd, frame);
      },
      async fromGuest(count, timeoutMs = 2000) {
        const out: Uint8Array[] = [];
        const deadline = Date.now() + timeoutMs;
        while (out.length < count) {
          const n = readFd(device.peerFd, buf);
          if (n >= 0) {
            const frame = buf.slice(0, n);
            if (isTestFrame(frame)) out.push(frame);
            continue;
          }
          if (Date.now() > deadline) throw new Error(`dgram ${config.id}: ${out.length}/${count} frames from the guest after ${timeoutMs} ms`);
          await new Promise((resolve) => setImmediate(resolve));
        }
        return out;
      },
      teardown: () => device.close(),
    };
  },
});
