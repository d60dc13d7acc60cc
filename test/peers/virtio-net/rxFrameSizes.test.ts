import { featureBit, type NetDeviceConfig } from '@vnic/core';
import * as N from '@vnic/core/virtio_net';
import { VIRTIO_NET_HDR_SIZE } from '@vnic/core/virtio_net';
import { DRIVER_FEATURES, VirtioNetDriver } from '@vnic/driver';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { hostTapPeer } from '@vnic/sys/testing';
import { OUTSIDE_MAC, testFrame } from '../../conformance/frames.ts';
import { netConfig } from '../../conformance/netConfig.ts';
import { TapNetns } from '../../fixtures/TapNetns.ts';

// With MRG_RXBUF the IO thread hands readv only the first few KiB of guest buffers and reads the
// rest of a large frame into a bounce buffer, copied into the following buffers (RxPath's
// ZERO_COPY_MIN). Jumbo frames injected on a tap with MTU 9000 must arrive intact, with the right
// num_buffers, whether they arrive first (bounce), after another large one (all buffers direct)
// or between small ones. Without MRG_RXBUF a frame larger than the one buffer reaches the
// overflow byte after the bounce buffer and is dropped, counted, while the next frame arrives.

const MAC = Uint8Array.of(0x52, 0x54, 0x00, 0x7e, 0x05, 0x01);
const BUF = 2048;

function config(): NetDeviceConfig {
  return netConfig('virtio-net', { id: 'vnt-mrg', mac: MAC, ctrlVq: false });
}

const peer = hostTapPeer();

describe.skipIf(peer.skip)('virtio-net backend: large frames with MRG_RXBUF on a host kernel tap', () => {
  let nic: TapNetns;
  let driver: VirtioNetDriver;

  beforeAll(async () => {
    if (peer.reason !== undefined) throw new Error(`host kernel tap peer missing: ${peer.reason}`);
    nic = TapNetns.create(config(), { packetSocket: true });
    nic.ns.ip('link', 'set', nic.tap, 'mtu', '9000');
    driver = await VirtioNetDriver.create({ device: nic.device, rxBufferSize: BUF });
  });

  afterAll(async () => {
    await driver?.close();
    await nic?.close();
  });

  it('delivers jumbo and small frames intact, spread over 2 KiB buffers', async () => {
    const sizes = [8000, 8000, 64, 5000, 60, 9014, 1514, 4085, 4086];
    for (const [seq, size] of sizes.entries()) {
      const sent = testFrame(MAC, OUTSIDE_MAC, seq + 1, size);
      nic.send(sent);
      const got = await driver.receive(0, 3000);
      expect(got, `frame ${seq + 1} of ${size} bytes`).toBeDefined();
      expect(got!.frame.length).toBe(size);
      expect(Buffer.compare(Buffer.from(got!.frame), Buffer.from(sent))).toBe(0);
      expect(got!.buffers).toBe(Math.ceil((size + VIRTIO_NET_HDR_SIZE) / BUF));
      expect(got!.hdr.numBuffers).toBe(got!.buffers);
    }
    // The IO thread publishes its counters after the used ring: wait for them to catch up.
    await vi.waitFor(() => expect(nic.device.stats()[0]!.packets).toBe(sizes.length), { timeout: 2000 });
    expect(nic.device.stats()[0]!.drops).toBe(0);
  });
});

describe.skipIf(peer.skip)('virtio-net backend: a frame larger than the RX buffer without MRG_RXBUF', () => {
  let nic: TapNetns;
  let driver: VirtioNetDriver;

  beforeAll(async () => {
    if (peer.reason !== undefined) throw new Error(`host kernel tap peer missing: ${peer.reason}`);
    nic = TapNetns.create({ ...config(), id: 'vnt-nomrg' }, { packetSocket: true });
    nic.ns.ip('link', 'set', nic.tap, 'mtu', '9000');
    const noMrgNoGso = [
      N.VIRTIO_NET_F_MRG_RXBUF,
      N.VIRTIO_NET_F_GUEST_TSO4,
      N.VIRTIO_NET_F_GUEST_TSO6,
      N.VIRTIO_NET_F_GUEST_ECN,
      N.VIRTIO_NET_F_GUEST_UFO,
    ].reduce((f, b) => f & ~featureBit(b), DRIVER_FEATURES);
    driver = await VirtioNetDriver.create({ device: nic.device, features: noMrgNoGso });
  });

  afterAll(async () => {
    await driver?.close();
    await nic?.close();
  });

  it('drops and counts it (the overflow byte is reached) and delivers the next frame intact', async () => {
    expect(driver.rxBufferSize).toBe(1526);
    nic.send(testFrame(MAC, OUTSIDE_MAC, 1, 2000));
    const small = testFrame(MAC, OUTSIDE_MAC, 2, 100);
    nic.send(small);
    const got = await driver.receive(0, 3000);
    expect(got).toBeDefined();
    expect(Buffer.compare(Buffer.from(got!.frame), Buffer.from(small))).toBe(0);
    // The IO thread publishes its counters after the used ring: wait for them to catch up.
    await vi.waitFor(() => expect(nic.device.stats()[0]!.packets).toBe(1), { timeout: 2000 });
    expect(nic.device.stats()[0]!.drops).toBe(1);
  });
});
