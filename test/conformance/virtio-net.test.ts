import { describe } from 'vitest';
import { hostTapPeer, uniqueName } from '@vnic/sys/testing';
import type { RingLayout } from '@vnic/driver';
import type { IoThreadMode } from '@vnic/virtio-net';
import { TapNetns } from '../fixtures/TapNetns.ts';
import { describeVirtioNetDevice } from './describeVirtioNetDevice.ts';
import { isTestFrame } from './frames.ts';

// The contract suite against the in-process backend, once per IO-thread mode (the pool's shared
// threads, the default; a thread of its own per queue pair), on packed rings, and with IN_ORDER on both layouts (shared threads). The outside of the NIC is the kernel
// side of a real tap: the tap sits in a throw-away network namespace (no address, IPv6 off, so the
// kernel itself stays silent), and an AF_PACKET socket on it inside the namespace injects frames
// towards the guest (the device reads them from the tap fd) and captures the frames the guest sent
// (the device wrote them to the tap fd).
const peer = hostTapPeer();

const runs: readonly (readonly [IoThreadMode, RingLayout, boolean])[] = [
  ['shared', 'split', false],
  ['dedicated', 'split', false],
  ['shared', 'packed', false],
  ['shared', 'split', true],
  ['shared', 'packed', true],
];
for (const [ioThreads, ring, inOrder] of runs) {
  describe.skipIf(peer.skip)(`virtio-net backend on a host kernel tap (${ioThreads} IO threads, ${ring} rings${inOrder ? ', IN_ORDER' : ''})`, () => {
    describeVirtioNetDevice({
      backend: 'virtio-net',
      ring,
      inOrder,
      async setup(config) {
        if (peer.reason !== undefined) throw new Error(`host kernel tap peer missing: ${peer.reason}`);
        const nic = TapNetns.create(config, { packetSocket: true, options: { tap: uniqueName('vnt'), ioThreads } });
        if (nic.device.ioThreads !== ioThreads) throw new Error(`the NIC runs with ioThreads ${nic.device.ioThreads}, not ${ioThreads}`);
        return {
          device: nic.device,
          toGuest: async (frame) => nic.send(frame),
          fromGuest: (count, timeoutMs) => nic.capture(count, isTestFrame, timeoutMs),
          teardown: () => nic.close(),
        };
      },
    });
  });
}
