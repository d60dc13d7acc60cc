import { describeVirtioNetDevice } from './describeVirtioNetDevice.ts';
import { isTestFrame } from './frames.ts';
import { LoopbackDevice } from './LoopbackDevice.ts';

// The suite proven against the test-only loopback device; each backend package adds its own target.
describeVirtioNetDevice({
  backend: 'loopback',
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
