import { featureBit, type NetDeviceConfig, VIRTIO_F_EVENT_IDX } from '@vnic/core';
import { VIRTIO_NET_ERR, VIRTIO_NET_F_NOTF_COAL, VIRTIO_NET_F_VQ_NOTF_COAL, VIRTIO_NET_OK } from '@vnic/core/virtio_net';
import { testNetConfig } from '@vnic/core/testing';
import { DRIVER_FEATURES, VirtioNetDriver } from '@vnic/driver';
import { hostTapPeer, waitUntil } from '@vnic/sys/testing';
import type { VirtioNetTapDevice } from '@vnic/virtio-net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OUTSIDE_MAC, testFrame } from '../../conformance/frames.ts';
import { TapNetns } from '../../fixtures/TapNetns.ts';

// Notification coalescing (VIRTIO_NET_F_NOTF_COAL / VQ_NOTF_COAL) in the in-process data plane,
// proven on a real tap in a namespace: the TS driver sets per-queue parameters with
// VIRTIO_NET_CTRL_NOTF_COAL_VQ_SET (the Linux 6.1 guest only speaks TX_SET/RX_SET), frames are
// injected into the tap one at a time (each one published on its own, so without coalescing each is
// one notification), and the notifications are counted from the RX / TX call eventfds. The driver
// runs without EVENT_IDX and never suppresses interrupts, so every notification the device decides
// on reaches the eventfd.

const MAC = Uint8Array.of(0x52, 0x54, 0x00, 0x7e, 0x0c, 0x01);
const peer = hostTapPeer();

function config(): NetDeviceConfig {
  return testNetConfig({ id: 'vnt-coal', backend: 'virtio-net', mac: MAC });
}

describe.skipIf(peer.skip)('virtio-net backend: notification coalescing on a host kernel tap', () => {
  let nic: TapNetns<VirtioNetTapDevice>;
  let driver: VirtioNetDriver;
  let seq = 1;

  beforeAll(async () => {
    if (peer.reason !== undefined) throw new Error(`host kernel tap peer missing: ${peer.reason}`);
    nic = TapNetns.create(config(), { packetSocket: true });
    driver = await VirtioNetDriver.create({ device: nic.device, features: DRIVER_FEATURES & ~featureBit(VIRTIO_F_EVENT_IDX) });
  });

  afterAll(async () => {
    await driver?.close();
    await nic?.close();
  });

  const rxPackets = (): number => nic.device.stats()[0]!.packets;

  /** Injects `n` frames one by one, each delivered (device RX counter) before the next; returns the RX notifications they caused. */
  async function inject(n: number): Promise<number> {
    const before = driver.notifications(0);
    for (let i = 0; i < n; i++) {
      const want = rxPackets() + 1;
      nic.send(testFrame(MAC, OUTSIDE_MAC, seq++, 64));
      await waitUntil(() => rxPackets() >= want, `RX frame ${i + 1} of ${n}`, 10_000);
    }
    for (let got = 0; got < n;) got += (await driver.receiveMany(n - got, 0, 10_000)).length;
    return driver.notifications(0) - before;
  }

  it('offers NOTF_COAL and VQ_NOTF_COAL, which the driver acks', () => {
    expect(driver.features & featureBit(VIRTIO_NET_F_NOTF_COAL)).not.toBe(0n);
    expect(driver.features & featureBit(VIRTIO_NET_F_VQ_NOTF_COAL)).not.toBe(0n);
  });

  it('without coalescing every frame is one notification', async () => {
    expect(await inject(16)).toBe(16);
  });

  it('VQ_SET on the receive queue: one notification per max_packets frames; the transmit queue keeps one per frame', async () => {
    expect(await driver.ctrl({ kind: 'notf-coal-vq-set', vqn: 0, maxPackets: 8, maxUsecs: 1_000_000 })).toBe(VIRTIO_NET_OK);
    expect(nic.device.ctrlState.notfCoal.vqs).toEqual([{ vqn: 0, maxPackets: 8, maxUsecs: 1_000_000 }]);
    const n = await inject(32);
    // 32 / 8 = 4; a loaded machine may make a window outlast 1 s, and the timer flushes it early.
    expect(n).toBeGreaterThanOrEqual(4);
    expect(n).toBeLessThanOrEqual(8);
    // TX (vq 1) was not touched: each frame sent and flushed on its own is one notification.
    const txBefore = driver.notifications(1);
    for (let i = 0; i < 8; i++) {
      driver.send(testFrame(OUTSIDE_MAC, MAC, seq++, 64));
      await driver.flushTx(0, 10_000);
      await waitUntil(() => driver.notifications(1) - txBefore >= i + 1, `TX notification ${i + 1}`, 10_000);
    }
    expect(driver.notifications(1) - txBefore).toBe(8);
  });

  it('a frame is never held past max_usecs: the timer, not the next frame, notifies it', async () => {
    expect(await driver.ctrl({ kind: 'notf-coal-vq-set', vqn: 0, maxPackets: 1000, maxUsecs: 300_000 })).toBe(VIRTIO_NET_OK);
    const before = driver.notifications(0);
    const sent = performance.now();
    nic.send(testFrame(MAC, OUTSIDE_MAC, seq++, 64));
    await waitUntil(() => driver.notifications(0) > before, 'the timer flush', 10_000);
    // Never before max_usecs (300 ms) passed since the frame was published (published after `sent`).
    expect(performance.now() - sent).toBeGreaterThanOrEqual(299);
    expect(driver.notifications(0) - before).toBe(1);
    expect(await driver.receiveMany(1, 0, 5000)).toHaveLength(1);
  });

  it("the VMM's setCoalescing wins over the guest's for its direction, and hands back when cleared", async () => {
    expect(await driver.ctrl({ kind: 'notf-coal-vq-set', vqn: 0, maxPackets: 4, maxUsecs: 1_000_000 })).toBe(VIRTIO_NET_OK);
    nic.device.setCoalescing({ rx: { maxPackets: 16, maxUsecs: 1_000_000 } });
    const vmm = await inject(32);
    expect(vmm).toBeGreaterThanOrEqual(2);
    expect(vmm).toBeLessThanOrEqual(4);
    nic.device.setCoalescing({});
    const guest = await inject(16);
    expect(guest).toBeGreaterThanOrEqual(4);
    expect(guest).toBeLessThanOrEqual(8);
    expect(() => nic.device.setCoalescing({ tx: { maxPackets: 1, maxUsecs: 2_000_000 } })).toThrow(/coalescing\.tx\.maxUsecs/);
  });

  it('RX_SET (what Linux 6.1 sends) overrides the queue VQ_SET had set; zero turns it off; a bad vqn is ERR', async () => {
    expect(await driver.ctrl({ kind: 'notf-coal-set', direction: 'rx', maxPackets: 0, maxUsecs: 0 })).toBe(VIRTIO_NET_OK);
    expect(nic.device.ctrlState.notfCoal.vqs).toEqual([]);
    expect(await inject(8)).toBe(8);
    expect(await driver.ctrl({ kind: 'notf-coal-vq-set', vqn: 2, maxPackets: 4, maxUsecs: 10 })).toBe(VIRTIO_NET_ERR);
  });
});
