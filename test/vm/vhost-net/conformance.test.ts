import { VhostNetDevice } from '@vnic/vhost-net';
import { describe } from 'vitest';
import { describeVirtioNetDevice } from '../../conformance/describeVirtioNetDevice.ts';
import { isTestFrame } from '../../conformance/frames.ts';
import { TapNetns } from '../../fixtures/TapNetns.ts';
import { vhostNetPeer } from './vhostNetPeer.ts';

// The contract suite against the kernel's vhost-net (inside the test VM). The outside of the NIC
// is the same as for the in-process backend: the tap in a throw-away namespace, an AF_PACKET
// socket on it injecting frames towards the guest and capturing what the guest sent. The kernel
// keeps no per-queue counters; a ring error it signals (VHOST_SET_VRING_ERR) becomes NEEDS_RESET.
const reason = vhostNetPeer();

describe('vhost-net backend on the kernel vhost_net', () => {
  describeVirtioNetDevice({
    backend: 'vhost-net',
    capabilities: { dataPlaneCounters: false, reportsRingCorruption: true },
    async setup(config) {
      if (reason !== undefined) throw new Error(`kernel vhost_net peer missing: ${reason}`);
      const nic = TapNetns.create(config, { packetSocket: true, open: (c) => VhostNetDevice.open(c) });
      return {
        device: nic.device,
        toGuest: async (frame) => nic.send(frame),
        fromGuest: (count, timeoutMs) => nic.capture(count, isTestFrame, timeoutMs ?? 10_000),
        teardown: () => nic.close(),
      };
    },
  });
});
