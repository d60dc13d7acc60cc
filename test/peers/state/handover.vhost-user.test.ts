import { DEFAULT_NET_OFFLOADS, featureBit, NOTF_COAL_FEATURES, type NetDeviceConfig } from '@vnic/core';
import { VIRTIO_NET_F_CTRL_GUEST_OFFLOADS } from '@vnic/core/virtio_net';
import { DRIVER_FEATURES } from '@vnic/driver';
import { Testpmd } from '@vnic/cli';
import { VhostUserNetDevice } from '@vnic/vhost-user';
import { afterAll, describe, expect, it } from 'vitest';
import { frameSeq } from '../../conformance/frames.ts';
import { TapNetns } from '../../fixtures/TapNetns.ts';
import { peerMissing, socketDir } from '../vhost-user/peerSupport.ts';
import { awaitFlowing, hexAll, macswapRoundTrip, swapped } from '../vhost-user/pmdLoop.ts';
import { HandOverVmm } from './HandOverVmm.ts';
import { guestToTap, tapToGuest } from './tapTraffic.ts';

// A NIC's state carried across data planes and processes with the guest's driver up all along:
// saved from an in-process virtio-net device on tap A, restored onto a vhost-user device whose
// data plane is DPDK testpmd (macswap) in another process (SET_VRING_BASE from the saved
// positions), saved again from there (GET_VRING_BASE) and restored onto virtio-net on tap B.
// DPDK testpmd busy-polls a core: scripts/test.sh runs this file with the vhost-user peers.

const MAC = Uint8Array.of(0x52, 0x54, 0x00, 0x5a, 0x7e, 0x31);
const missing = Testpmd.ensure();
const skip = peerMissing(missing);
const sockets = socketDir();
afterAll(() => sockets.remove());

function config(backend: string): NetDeviceConfig {
  // Offloads off: a tap and testpmd both give the rest (a guest offload testpmd lacks would be refused).
  const off = Object.fromEntries(Object.keys(DEFAULT_NET_OFFLOADS).map((k) => [k, false])) as unknown as NetDeviceConfig['offloads'];
  return {
    id: 'vsu0',
    backend,
    mac: MAC,
    queuePairs: 1,
    queueSize: 256,
    offloads: off,
    mrgRxbuf: true,
    eventIdx: true,
    indirectDesc: true,
    ctrlVq: true,
    options: {},
  };
}

describe.skipIf(skip)('device state: virtio-net -> vhost-user (DPDK testpmd) -> virtio-net hand-over, TS driver as the guest', () => {
  it('rings resume on each data plane where the last one stopped; traffic checked on each', async () => {
    const sock = sockets.path('state.sock');
    const a = TapNetns.create(config('virtio-net'), { packetSocket: true });
    let b: TapNetns | undefined;
    let pmd: Testpmd | undefined;
    let vu: VhostUserNetDevice | undefined;
    let vmm: HandOverVmm | undefined;
    try {
      pmd = await Testpmd.start({ socket: sock });
      vu = await VhostUserNetDevice.create(config('vhost-user'), {
        socket: sock,
        mode: 'client',
        reconnect: false,
        connectTimeoutMs: 5000,
        replyTimeoutMs: 2000,
      });

      // A guest that negotiated VIRTIO_NET_F_CTRL_GUEST_OFFLOADS (virtio-net offers it; a vhost-user
      // backend cannot change offloads at run time, so vnic does not offer it there) and
      // notification coalescing (vnic's IO threads coalesce; testpmd offers neither bit) is refused,
      // every missing feature named.
      const first = await HandOverVmm.start(a.device, { queuePairs: 1, queueSize: 256 });
      try {
        await expect(first.handOver(vu)).rejects.toThrow(
          /device state refused: features\.acked: the guest negotiated VIRTIO_NET_F_CTRL_GUEST_OFFLOADS, VIRTIO_NET_F_VQ_NOTF_COAL, VIRTIO_NET_F_NOTF_COAL, which this vhost-user device cannot offer/,
        );
        expect(vu.activated).toBe(false);
      } finally {
        await first.close();
      }

      // A guest without them moves over.
      vmm = await HandOverVmm.start(a.device, {
        queuePairs: 1,
        queueSize: 256,
        features: DRIVER_FEATURES & ~featureBit(VIRTIO_NET_F_CTRL_GUEST_OFFLOADS) & ~NOTF_COAL_FEATURES,
      });
      const d = vmm.driver;
      await guestToTap(a, d, MAC, 1, 21);
      await tapToGuest(a, d, MAC, 1, 11);
      const toVu = await vmm.handOver(vu);
      await a.close();
      expect(toVu.backend).toBe('virtio-net');
      expect(toVu.queues[1]!.nextAvail).toBe(d.queue(1).nextAvail);
      expect(toVu.queues[0]!.nextUsed).toBe(d.queue(0).lastUsed);
      await pmd.waitReady(sock);
      await awaitFlowing(d, MAC);
      const { sent, got } = await macswapRoundTrip(d, MAC, 100, 32);
      expect(got.map(frameSeq)).toEqual(sent.map(frameSeq));
      expect(hexAll(got)).toEqual(hexAll(sent.map(swapped)));

      b = TapNetns.create(config('virtio-net'), { packetSocket: true });
      const fromVu = await vmm.handOver(b.device);
      expect(fromVu.backend).toBe('vhost-user');
      // testpmd consumed every TX chain the guest posted: GET_VRING_BASE gave the guest's avail index.
      expect(fromVu.queues[1]!.nextAvail).toBe(d.queue(1).nextAvail);
      expect(fromVu.queues[1]!.nextUsed).toBe(d.queue(1).nextAvail);
      await vu.close();
      vu = undefined;
      await guestToTap(b, d, MAC, 200, 220);
      await tapToGuest(b, d, MAC, 200, 210);
    } finally {
      await vmm?.close();
      await vu?.close();
      await pmd?.stop();
      await b?.close();
      await a.close();
    }
  });
});
