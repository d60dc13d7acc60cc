import { describe } from 'vitest';
import { hostTapPeer, uniqueName } from '@vnic/sys/testing';
import { TapNetns } from '../fixtures/TapNetns.ts';
import { describeVirtioNetDevice } from './describeVirtioNetDevice.ts';
import { isTestFrame } from './frames.ts';

// The contract suite against the in-process backend with `ioThreads: 'dedicated'` (a thread of its
// own per queue pair instead of the pool's shared threads); otherwise as virtio-net.test.ts.
const peer = hostTapPeer();

describe.skipIf(peer.skip)('virtio-net backend on a host kernel tap, dedicated IO threads', () => {
  describeVirtioNetDevice({
    backend: 'virtio-net',
    async setup(config) {
      if (peer.reason !== undefined) throw new Error(`host kernel tap peer missing: ${peer.reason}`);
      const nic = TapNetns.create(config, { packetSocket: true, options: { tap: uniqueName('vnt'), ioThreads: 'dedicated' } });
      if (nic.device.ioThreads !== 'dedicated') throw new Error(`the NIC runs with ioThreads ${nic.device.ioThreads}, not dedicated`);
      return {
        device: nic.device,
        toGuest: async (frame) => nic.send(frame),
        fromGuest: (count, timeoutMs) => nic.capture(count, isTestFrame, timeoutMs),
        teardown: () => nic.close(),
      };
    },
  });
});
