import { describe } from 'vitest';
import { hostTapPeer } from '@vnic/sys/testing';
import { TapNetns } from '../fixtures/TapNetns.ts';
import { describeVirtioNetDevice } from './describeVirtioNetDevice.ts';
import { isTestFrame } from './frames.ts';

// The contract suite against the in-process backend. The outside of the NIC is the kernel side of
// a real tap: the tap sits in a throw-away network namespace (no address, IPv6 off, so the kernel
// itself stays silent), and an AF_PACKET socket on it inside the namespace injects frames towards
// the guest (the device reads them from the tap fd) and captures the frames the guest sent (the
// device wrote them to the tap fd).
const peer = hostTapPeer();

describe.skipIf(peer.skip)('virtio-net backend on a host kernel tap', () => {
  describeVirtioNetDevice({
    backend: 'virtio-net',
    async setup(config) {
      if (peer.reason !== undefined) throw new Error(`host kernel tap peer missing: ${peer.reason}`);
      const nic = TapNetns.create(config, { packetSocket: true });
      return {
        device: nic.device,
        toGuest: async (frame) => nic.send(frame),
        fromGuest: (count, timeoutMs) => nic.capture(count, isTestFrame, timeoutMs),
        teardown: () => nic.close(),
      };
    },
  });
});
