import { type NetDeviceConfig } from '@vnic/core';
import { VirtioNetDriver } from '@vnic/driver';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { hostTapPeer } from '@vnic/sys/testing';
import { frameSeq, OUTSIDE_MAC, testFrame } from '../../conformance/frames.ts';
import { netConfig } from '../../conformance/netConfig.ts';
import { TapNetns } from '../../fixtures/TapNetns.ts';

// EIO from the tap means the interface is down (tun refuses writes until it is up): each frame
// the guest sends meanwhile is a counted drop, the tap side does not stop (no needs-reset), and
// frames leave again as soon as the interface is up.

const MAC = Uint8Array.of(0x52, 0x54, 0x00, 0x7e, 0x05, 0x21);

function config(): NetDeviceConfig {
  return netConfig('virtio-net', { id: 'vnt-down', mac: MAC, ctrlVq: false });
}

const peer = hostTapPeer();

describe.skipIf(peer.skip)('virtio-net backend: TX while the tap interface is down', () => {
  let nic: TapNetns;
  let driver: VirtioNetDriver;
  const reasons: string[] = [];

  beforeAll(async () => {
    if (peer.reason !== undefined) throw new Error(`host kernel tap peer missing: ${peer.reason}`);
    nic = TapNetns.create(config(), { packetSocket: true });
    nic.device.events.on('needs-reset', (why) => reasons.push(why));
    driver = await VirtioNetDriver.create({ device: nic.device });
  });

  afterAll(async () => {
    await driver?.close();
    await nic?.close();
  });

  it('drops and counts each frame (EIO), keeps the tap side, and sends again once it is up', async () => {
    nic.ns.ip('link', 'set', nic.tap, 'down');
    for (let seq = 1; seq <= 5; seq++) expect(driver.send(testFrame(OUTSIDE_MAC, MAC, seq, 100))).toBe(true);
    await driver.flushTx(0, 3000);
    await vi.waitFor(() => expect(nic.device.stats()[1]!.drops).toBe(5), { timeout: 2000 });
    expect(nic.device.stats()[1]!.packets).toBe(0);

    nic.ns.ip('link', 'set', nic.tap, 'up');
    // The fixture's packet socket reports the interface going down once (ENETDOWN): clear it.
    try {
      nic.drain();
    } catch (e) {
      expect(String(e)).toMatch(/ENETDOWN/);
    }
    nic.drain();
    expect(driver.send(testFrame(OUTSIDE_MAC, MAC, 6, 100))).toBe(true);
    const got = await nic.capture(1, (f) => f.length === 100 && frameSeq(f) === 6);
    expect(got).toHaveLength(1);
    await vi.waitFor(() => expect(nic.device.stats()[1]!.packets).toBe(1), { timeout: 2000 });
    expect(reasons).toEqual([]);
  });
});
