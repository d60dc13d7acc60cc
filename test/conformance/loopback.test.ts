import { describeVirtioNetDevice } from './describeVirtioNetDevice.ts';
import { isTestFrame } from './frames.ts';
import { LoopbackDevice } from './LoopbackDevice.ts';

// The suite proven against the test-only loopback device (split and packed rings: it takes
// whichever layout the driver negotiated); each backend package adds its own target.
for (const [ring, inOrder] of [
  ['split', false],
  ['packed', false],
  ['split', true],
  ['packed', true],
] as const)
  describeVirtioNetDevice({
    backend: 'loopback',
    ring,
    inOrder,
    async setup(config) {
      const device = new LoopbackDevice(config);
      return {
        device,
        toGuest: async (frame) => device.toGuest(frame),
        fromGuest: async (count, timeoutMs) => (await device.waitFromGuest(count, timeoutMs)).filter(isTestFrame),
        teardown: () => device.close(),
      };
    },
  });
