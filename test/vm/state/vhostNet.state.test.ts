import { NOTF_COAL_FEATURES, type NetDeviceConfig } from '@vnic/core';
import { DRIVER_FEATURES } from '@vnic/driver';
import { netConfig } from '../../conformance/netConfig.ts';
import { fdCount, waitUntil } from '@vnic/sys/testing';
import { VhostNetDevice } from '@vnic/vhost-net';
import { describe, expect, it } from 'vitest';
import { TapNetns } from '../../fixtures/TapNetns.ts';
import { HandOverVmm } from '../../peers/state/HandOverVmm.ts';
import { guestToTap, tapToGuest } from '../../peers/state/tapTraffic.ts';
import { vhostNetPeer } from '../vhost-net/vhostNetPeer.ts';
import { firstSpawnDone } from '../../fixtures/firstSpawnDone.ts';

// Inside the test VM (kernel vhost_net): a NIC's state saved from the in-process virtio-net device
// on tap A is restored onto a kernel vhost-net device on tap B (VHOST_SET_VRING_BASE from the
// saved positions), saved from there (VHOST_GET_VRING_BASE) and restored onto virtio-net on tap C,
// with the guest's driver, rings and buffers up all along and traffic checked on every tap.

const MAC = Uint8Array.of(0x52, 0x54, 0x00, 0x5a, 0x7e, 0x41);
const reason = vhostNetPeer();

function config(backend: string): NetDeviceConfig {
  return netConfig(backend, { mac: MAC, queuePairs: 2, queueSize: 128 });
}

describe('device state: virtio-net -> vhost-net -> virtio-net hand-over in the test VM', () => {
  it('rings resume on the kernel data plane and back, traffic checked on each tap, control state kept, no fd left', async () => {
    if (reason !== undefined) throw new Error(`kernel vhost_net peer missing: ${reason}`);
    await firstSpawnDone();
    const fdsBefore = fdCount.fds();
    const a = TapNetns.create(config('virtio-net'), { packetSocket: true });
    let b: TapNetns<VhostNetDevice> | undefined;
    let c: TapNetns | undefined;
    let vmm: HandOverVmm | undefined;
    try {
      // The kernel signals the call eventfd itself: a guest that negotiated coalescing with the
      // in-process backend cannot move to vhost-net (restoreState refuses it, naming both bits).
      vmm = await HandOverVmm.start(a.device, { queuePairs: 2, queueSize: 128, features: DRIVER_FEATURES & ~NOTF_COAL_FEATURES });
      const d = vmm.driver;
      await guestToTap(a, d, MAC, 1, 21);
      await tapToGuest(a, d, MAC, 1, 11);

      b = TapNetns.create<VhostNetDevice>(config('vhost-net'), { packetSocket: true, open: (cfg) => VhostNetDevice.open(cfg) });
      const toKernel = await vmm.handOver(b.device);
      await a.close();
      expect(toKernel.queues[1]!.nextAvail).toBe(d.queue(1).nextAvail);
      expect(toKernel.queues[0]!.nextUsed).toBe(d.queue(0).lastUsed);
      expect(b.device.attachedPairs).toBe(2); // the guest's VQ_PAIRS_SET 2 carried over
      await guestToTap(b, d, MAC, 21, 41);
      await tapToGuest(b, d, MAC, 11, 21);

      c = TapNetns.create(config('virtio-net'), { packetSocket: true });
      const fromKernel = await vmm.handOver(c.device);
      expect(fromKernel.backend).toBe('vhost-net');
      // The kernel consumed every TX chain: VHOST_GET_VRING_BASE gave the guest's avail index.
      expect(fromKernel.queues[1]!.nextAvail).toBe(d.queue(1).nextAvail);
      expect(fromKernel.ctrl).toEqual(toKernel.ctrl);
      await b.close();
      b = undefined;
      await guestToTap(c, d, MAC, 41, 61);
      await tapToGuest(c, d, MAC, 21, 31);
    } finally {
      await vmm?.close();
      await c?.close();
      await b?.close();
      await a.close();
    }
    // The shared event loop closes its epoll fd once its thread is done: wait (bounded) for that.
    await waitUntil(() => fdCount.fds() <= fdsBefore, 'the hand-over fds to be closed', 10_000).catch(() => undefined);
    expect(fdCount.fds()).toBe(fdsBefore);
  });
});
