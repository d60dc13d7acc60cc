import { DEFAULT_GUEST_MEMORY_WINDOWS, type NetDeviceConfig } from '@vnic/core';
import { VirtioNetDriver } from '@vnic/driver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostTapPeer } from '@vnic/sys/testing';
import { OUTSIDE_MAC, testFrame } from '../../conformance/frames.ts';
import { netConfig } from '../../conformance/netConfig.ts';
import { TapNetns } from '../../fixtures/TapNetns.ts';

// Guest RAM of an ordinary VM size, above 4 GiB: one sparse memfd region at 5 GiB of 4 GiB +
// 128 MiB, so it has five views (windows; one view of it would abort the process) in the device's IO thread. The driver's rings and buffers
// start just below the first window edge: the RX ring sits at the end of window 0, the RX buffers
// run across the edge (1500-byte buffers, so one straddles it), the TX ring and slots lie in
// window 1. Frames must cross a real tap both ways, intact.

const MAC = Uint8Array.of(0x52, 0x54, 0x00, 0x7e, 0x0b, 0x01);
const GiB = 2 ** 30;
const BASE = 5 * GiB;
const EDGE = BASE + DEFAULT_GUEST_MEMORY_WINDOWS.stride;

function config(): NetDeviceConfig {
  return netConfig('virtio-net', { id: 'vnt-high', mac: MAC, ctrlVq: false });
}

const peer = hostTapPeer();

describe.skipIf(peer.skip)('virtio-net backend: guest memory above 4 GiB, rings and buffers across a window edge, on a host kernel tap', () => {
  let nic: TapNetns;
  let driver: VirtioNetDriver;

  beforeAll(async () => {
    if (peer.reason !== undefined) throw new Error(`host kernel tap peer missing: ${peer.reason}`);
    nic = TapNetns.create(config(), { packetSocket: true });
    // 64 KiB scratch, the RX ring (one 8 KiB slot), then 256 RX buffers from EDGE - 64 KiB.
    driver = await VirtioNetDriver.create({
      device: nic.device,
      rxBufferSize: 1500,
      placement: { guestPhysAddr: BASE, size: 4 * GiB + 128 * 2 ** 20, ramBase: EDGE - 136 * 1024 },
    });
  });

  afterAll(async () => {
    await driver?.close();
    await nic?.close();
  });

  it('has the region in five windows', () => {
    const r = driver.memory.regions[0]!;
    expect(r.guestPhysAddr).toBe(BASE);
    expect(r.windows.map((w) => w.guestPhysAddr)).toEqual([0, 1, 2, 3, 4].map((k) => BASE + k * GiB));
  });

  it('receives 600 frames through every RX buffer (one straddles the edge), intact', async () => {
    for (let seq = 1; seq <= 600; seq++) {
      const size = 60 + ((seq * 97) % 1400);
      const sent = testFrame(MAC, OUTSIDE_MAC, seq, size);
      nic.send(sent);
      const got = await driver.receive(0, 3000);
      expect(got, `frame ${seq}`).toBeDefined();
      expect(Buffer.compare(Buffer.from(got!.frame), Buffer.from(sent))).toBe(0);
    }
  });

  it('transmits 300 frames from TX slots in the second window, intact on the tap', async () => {
    nic.drain();
    // Bursts of 25, each captured before the next (the packet socket's buffer is small).
    for (let burst = 0; burst < 12; burst++) {
      const sent: Uint8Array[] = [];
      for (let k = 1; k <= 25; k++) {
        const seq = burst * 25 + k;
        const f = testFrame(OUTSIDE_MAC, MAC, 10_000 + seq, 60 + ((seq * 61) % 1450));
        sent.push(f);
        while (!driver.send(f)) await new Promise((r) => setTimeout(r, 1));
      }
      const got = await nic.capture(25, (f) => f.length >= 14 && Buffer.compare(Buffer.from(f.subarray(6, 12)), Buffer.from(MAC)) === 0, 5000);
      got.forEach((f, i) => expect(Buffer.compare(Buffer.from(f), Buffer.from(sent[i]!)), `frame ${burst * 25 + i + 1}`).toBe(0));
    }
  });
});
