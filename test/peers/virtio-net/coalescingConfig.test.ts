import { createNetDevices } from '@vnic/config';
import { featureBit, VIRTIO_F_EVENT_IDX } from '@vnic/core';
import { VIRTIO_NET_OK } from '@vnic/core/virtio_net';
import { DRIVER_FEATURES, formatMac, VirtioNetDriver } from '@vnic/driver';
import { hostTapPeer, uniqueName, waitUntil } from '@vnic/sys/testing';
import type { VirtioNetTapDevice } from '@vnic/virtio-net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OUTSIDE_MAC, testFrame } from '../../conformance/frames.ts';
import { netConfig } from '../../conformance/netConfig.ts';
import { TapNetns } from '../../fixtures/TapNetns.ts';

// Coalescing as a VMM configures it: a NIC built by createNetDevices from a VM config whose entry
// has `coalescing`, on a real tap in a namespace, with the TS driver as the guest (no EVENT_IDX, so
// every notification the device decides on reaches the RX call eventfd the driver counts). Frames
// are injected one at a time (each one published on its own: without coalescing, one
// notification each). Then changes made while frames are held back: they take effect at once,
// not at the next frame nor when the held frames' timer runs out. Every held window here is 1 s
// (the largest max_usecs), and the flush a change causes must come before that window ends: the
// change is made right after the frame is counted, so only a change applied at once beats it.

const MAC = Uint8Array.of(0x52, 0x54, 0x00, 0x7e, 0x0c, 0x31);
const peer = hostTapPeer();
const WINDOW_US = 1_000_000;

describe.skipIf(peer.skip)('virtio-net backend: coalescing from the VM config, and changes applied at once (real tap)', () => {
  let nic: TapNetns<VirtioNetTapDevice>;
  let driver: VirtioNetDriver;
  let seq = 1;

  beforeAll(async () => {
    if (peer.reason !== undefined) throw new Error(`host kernel tap peer missing: ${peer.reason}`);
    const tap = uniqueName('vnq');
    const [device] = await createNetDevices({
      net: [{ id: 'coalcfg', backend: 'virtio-net', mac: formatMac(MAC), coalescing: { rx: { maxPackets: 8, maxUsecs: WINDOW_US } }, 'virtio-net': { tap } }],
    });
    nic = TapNetns.create(netConfig('virtio-net'), { packetSocket: true, open: () => device as VirtioNetTapDevice });
    driver = await VirtioNetDriver.create({ device: nic.device, features: DRIVER_FEATURES & ~featureBit(VIRTIO_F_EVENT_IDX) });
  }, 60_000);

  afterAll(async () => {
    await driver?.close();
    await nic?.close();
  });

  const rxPackets = (): number => nic.device.stats()[0]!.packets;

  /** Injects a frame and waits until the device has put it in the RX ring (its used entry published). */
  async function injectOne(what: string): Promise<void> {
    const want = rxPackets() + 1;
    nic.send(testFrame(MAC, OUTSIDE_MAC, seq++, 64));
    await waitUntil(() => rxPackets() >= want, what, 10_000);
  }

  /** Injects `n` frames one by one; returns the RX notifications they caused once the driver has them all. */
  async function inject(n: number): Promise<number> {
    const before = driver.notifications(0);
    for (let i = 0; i < n; i++) await injectOne(`RX frame ${i + 1} of ${n}`);
    for (let got = 0; got < n;) got += (await driver.receiveMany(n - got, 0, 10_000)).length;
    return driver.notifications(0) - before;
  }

  it("the config's coalescing is the device's: one notification per max_packets (8) frames on RX, the guest acked NOTF_COAL", async () => {
    expect(nic.device.coalescing).toEqual({ rx: { maxPackets: 8, maxUsecs: WINDOW_US } });
    const n = await inject(32);
    // 32 / 8 = 4; a loaded machine may make a 1 s window run out early, and the timer flushes it.
    expect(n).toBeGreaterThanOrEqual(4);
    expect(n).toBeLessThanOrEqual(8);
  });

  it('turning coalescing off (setCoalescing) notifies the held frames at once, before their window ends', async () => {
    nic.device.setCoalescing({ rx: { maxPackets: 1000, maxUsecs: WINDOW_US } });
    const before = driver.notifications(0);
    const start = performance.now();
    await injectOne('the held frame');
    expect(driver.notifications(0)).toBe(before); // held: 1 of 1000 frames, 1 s window
    nic.device.setCoalescing({ rx: { maxPackets: 0, maxUsecs: 0 } });
    await waitUntil(() => driver.notifications(0) > before, 'the flush of coalescing turned off', 10_000);
    expect(performance.now() - start, 'notified by the change, not by the 1 s timer').toBeLessThan(WINDOW_US / 1000);
    expect(await driver.receiveMany(1, 0, 5000)).toHaveLength(1);
    // Off means one notification per frame again.
    expect(await inject(4)).toBe(4);
  });

  it('a max_packets lowered under the held count (guest VQ_SET) notifies at once', async () => {
    nic.device.setCoalescing({}); // the guest's parameters rule RX again
    expect(await driver.ctrl({ kind: 'notf-coal-vq-set', vqn: 0, maxPackets: 1000, maxUsecs: WINDOW_US })).toBe(VIRTIO_NET_OK);
    const before = driver.notifications(0);
    const start = performance.now();
    for (let i = 0; i < 3; i++) await injectOne(`held frame ${i + 1}`);
    expect(driver.notifications(0)).toBe(before);
    expect(await driver.ctrl({ kind: 'notf-coal-vq-set', vqn: 0, maxPackets: 2, maxUsecs: WINDOW_US })).toBe(VIRTIO_NET_OK);
    await waitUntil(() => driver.notifications(0) > before, 'the flush of max_packets 2 < 3 held', 10_000);
    expect(performance.now() - start, 'notified by the change, not by the 1 s timer').toBeLessThan(WINDOW_US / 1000);
    for (let got = 0; got < 3;) got += (await driver.receiveMany(3 - got, 0, 5000)).length;
  });

  it('a lowered max_usecs re-arms the timer: the held frame is notified at the new deadline, not the old one', async () => {
    nic.device.setCoalescing({ rx: { maxPackets: 1000, maxUsecs: WINDOW_US } });
    const before = driver.notifications(0);
    const start = performance.now();
    await injectOne('the held frame');
    expect(driver.notifications(0)).toBe(before);
    nic.device.setCoalescing({ rx: { maxPackets: 1000, maxUsecs: 150_000 } });
    await waitUntil(() => driver.notifications(0) > before, 'the re-armed timer', 10_000);
    const at = performance.now();
    // The new deadline is the frame's publication + 150 ms: never before it (the frame was published after `start`)...
    expect(at - start).toBeGreaterThanOrEqual(149);
    // ...and before the old 1 s deadline (which is after start + 1 s).
    expect(at - start, 'notified by the re-armed timer, not by the 1 s one').toBeLessThan(WINDOW_US / 1000);
    expect(driver.notifications(0) - before).toBe(1);
    expect(await driver.receiveMany(1, 0, 5000)).toHaveLength(1);
  });
});
