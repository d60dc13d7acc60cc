import { ConfigError, createNetDevices, createVnicContainer } from '@vnic/config';
import { existsSync } from 'node:fs';
import { VnicError } from '@vnic/core';
import { hostTapPeer, uniqueName } from '@vnic/sys/testing';
import type { VirtioNetTapDevice } from '@vnic/virtio-net';
import { describe, expect, it } from 'vitest';
import { HandOverVmm } from './HandOverVmm.ts';

// The config package's restore path: the same VM config (only the tap's name differs) plus the
// saved states builds NICs that carry on from where the saved ones stopped; a state the new
// config cannot take is refused for its entry and nothing built is left open.

const vmConfig = (tap: string, queuePairs = 2): object => ({
  net: [{ id: 'cfg0', backend: 'virtio-net', mac: '52:54:00:5a:7e:20', queuePairs, queueSize: 64, 'virtio-net': { tap } }],
});

const peer = hostTapPeer();

describe.skipIf(peer.skip)('device state: createNetDevices({ restore }) on real taps', () => {
  it('builds the NIC from the VM config and resumes the saved rings; a state it cannot take is refused for its entry', async () => {
    if (peer.reason !== undefined) throw new Error(`host kernel tap peer missing: ${peer.reason}`);
    const container = createVnicContainer();
    const [first] = await createNetDevices(vmConfig(uniqueName('vsc')), { container });
    const vmm = await HandOverVmm.start(first!, { queuePairs: 2, queueSize: 64 });
    try {
      // Refused: the new config has one queue pair; the device built for it is closed again.
      const tapRefused = uniqueName('vsc');
      const refused: unknown = await vmm
        .handOver((state, ctx) =>
          createNetDevices(vmConfig(tapRefused, 1), { container, restore: { states: { cfg0: state }, context: () => ctx } }).then((d) => d[0]!),
        )
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(ConfigError.is(refused) && refused.kind).toBe('state-refused');
      expect((refused as Error).message).toMatch(/^net\[0\] \(cfg0\): .*config\.maxVirtqueuePairs: the saved device had 2 queue pair\(s\)/);
      expect(ConfigError.is(refused) && VnicError.is(refused.cause) && refused.cause.kind).toBe('state-refused');
      expect(existsSync(`/sys/class/net/${tapRefused}`)).toBe(false); // the device built for it was closed

      const tap = uniqueName('vsc');
      const state = await vmm.handOver(async (s, ctx) => {
        const [d] = await createNetDevices(vmConfig(tap), { container, restore: { states: { cfg0: s }, context: () => ctx } });
        return d!;
      });
      const next = vmm.device as VirtioNetTapDevice;
      expect(next).not.toBe(first);
      expect(next.tapName).toBe(tap);
      expect(next.activated).toBe(true);
      const resumed = await next.saveState();
      expect(resumed.queues.map((q) => [q.index, q.nextAvail, q.nextUsed])).toEqual(state.queues.map((q) => [q.index, q.nextAvail, q.nextUsed]));
      expect(resumed.ctrl).toEqual(state.ctrl);
      await next.resume();
    } finally {
      await vmm.close();
      await container.dispose();
    }
  });
});
