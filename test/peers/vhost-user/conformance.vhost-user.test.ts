import { virtio_net, type NetDeviceConfig } from '@vnic/core';
import { MemfdGuestMemory } from '@vnic/sys';
import { VirtioNetDriver, type VirtioNetDriverOptions } from '@vnic/driver';
import { VhostUserNetDevice, type VhostUserOptions } from '@vnic/vhost-user';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ConformanceNic, ConformanceTarget } from '../../conformance/ConformanceTarget.ts';
import { describeVirtioNetDevice } from '../../conformance/describeVirtioNetDevice.ts';
import { isTestFrame } from '../../conformance/frames.ts';
import { netConfig } from '../../conformance/netConfig.ts';
import { Testpmd } from '@vnic/cli';
import { peerMissing, socketDir } from './peerSupport.ts';

/*
 * The shared conformance suite against a vhost-user NIC whose data plane is a real DPDK testpmd,
 * on split and on packed rings.
 *
 * Capabilities: the data plane is DPDK's, in another process. vhost-user gives the frontend no
 * per-queue counters and DPDK never reports a corrupted ring (no SET_VRING_ERR), so the suite
 * leaves out the counter assertions and the two cases that need them (titles say so).
 *
 * The "outside": testpmd with two vhost-user ports in io forwarding, paired: port 0 is the NIC
 * under test, port 1 a second vnic vhost-user NIC driven by a second VirtioNetDriver. toGuest()
 * sends on port 1 (testpmd carries it to the NIC under test), fromGuest() reads port 1's RX.
 */

const skip = peerMissing(Testpmd.ensure());
const sockets = socketDir();
const DUT = sockets.path('dut.sock');
const PEER = sockets.path('peer.sock');
const opts = (socket: string): VhostUserOptions => ({ socket, mode: 'client', reconnect: true, connectTimeoutMs: 5000, replyTimeoutMs: 2000 });

let pmd: Testpmd | undefined;

/**
 * Waits until testpmd has started the NIC under test's rings once more than `before` (DPDK drops
 * frames towards a port whose rings it has not started yet), then a little more.
 */
async function dutReady(before: number): Promise<void> {
  await pmd!.waitReady(DUT, before + 1, 5000);
  await new Promise((r) => setTimeout(r, 20));
}

const target: ConformanceTarget = {
  backend: 'vhost-user',
  capabilities: { dataPlaneCounters: false, reportsRingCorruption: false },
  async setup(config: NetDeviceConfig): Promise<ConformanceNic> {
    const device = await VhostUserNetDevice.create(config, opts(DUT));
    const peerDevice = await VhostUserNetDevice.create(netConfig('vhost-user'), opts(PEER));
    const outside = await VirtioNetDriver.create({ device: peerDevice });
    await pmd!.waitForwarding();
    const backlog: Uint8Array[] = [];
    let lastMemoryBytes: number | undefined;
    return {
      device,
      async startDriver(options: VirtioNetDriverOptions) {
        // DPDK 22.11 keeps its old mapping when SET_MEM_TABLE repeats the same guest and user
        // addresses ("memory regions not changed"), even with a new memfd. A VMM keeps guest RAM
        // across a guest reset, so that never matters there; a second driver here allocates NEW RAM,
        // so it must not land where the first one's was: hold a same-sized placeholder meanwhile.
        const placeholder =
          lastMemoryBytes === undefined
            ? undefined
            : MemfdGuestMemory.create({ regions: [{ guestPhysAddr: 0, size: lastMemoryBytes }], name: 'vnic-placeholder' });
        const before = pmd!.readyCount(DUT);
        try {
          const driver = await VirtioNetDriver.create(options);
          lastMemoryBytes = driver.guestMemory!.layout.regions[0]!.size;
          await dutReady(before);
          return driver;
        } finally {
          placeholder?.close();
        }
      },
      async toGuest(frame) {
        if (!outside.send(frame)) {
          await outside.flushTx();
          expect(outside.send(frame)).toBe(true);
        }
      },
      async fromGuest(count, timeoutMs = 3000) {
        const deadline = Date.now() + timeoutMs;
        while (backlog.length < count && Date.now() < deadline) {
          const r = await outside.receive(0, Math.max(1, Math.min(250, deadline - Date.now())));
          if (r !== undefined && isTestFrame(r.frame)) backlog.push(r.frame);
        }
        if (backlog.length < count) throw new Error(`vhost-user outside: ${backlog.length}/${count} frames from the guest after ${timeoutMs} ms`);
        outside.reclaim();
        return backlog.splice(0, count);
      },
      async teardown() {
        await outside.close();
        await peerDevice.close();
        await device.close();
      },
    };
  },
};

describe.skipIf(skip)('vhost-user over DPDK testpmd', () => {
  beforeAll(async () => {
    pmd = await Testpmd.start({ socket: DUT, socket2: PEER, forwardMode: 'io' });
  });
  afterAll(async () => {
    await pmd?.stop();
    sockets.remove();
  });

  describeVirtioNetDevice(target);
  // Packed rings end to end: vnic's frontend offers RING_PACKED because testpmd's vhost PMD does,
  // sends packed VRING_BASEs and DPDK runs its packed data path.
  describeVirtioNetDevice({ ...target, ring: 'packed' });

  describe('vhost-user only', () => {
    let nic: ConformanceNic | undefined;
    let driver: VirtioNetDriver | undefined;
    afterEach(async () => {
      await driver?.close();
      await nic?.teardown();
      driver = undefined;
      nic = undefined;
    });

    it('handles the control queue in the VMM and counts its commands', async () => {
      nic = await target.setup(netConfig(target.backend));
      driver = await nic.startDriver!({ device: nic.device });
      expect(await driver.ctrl({ kind: 'vlan-add', vid: 100 })).toBe(virtio_net.VIRTIO_NET_OK);
      expect(await driver.ctrl({ kind: 'vlan-add', vid: 5000 })).toBe(virtio_net.VIRTIO_NET_ERR);
      const ctrl = nic.device.stats()[driver.ctrlIndex!]!;
      expect(ctrl.packets).toBe(2);
      expect(nic.device.stats()[0]!.packets).toBe(0); // data queues: the backend's, not counted here
    });
  });
});
