import { featureBit, type DriverBuffer, type NetDeviceConfig } from '@vnic/core';
import * as N from '@vnic/core/virtio_net';
import { VIRTIO_NET_HDR_SIZE } from '@vnic/core/virtio_net';
import { DRIVER_FEATURES, VirtioNetDriver } from '@vnic/driver';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanupAfterEach, hostTapPeer } from '@vnic/sys/testing';
import { OUTSIDE_MAC, testFrame } from '../../conformance/frames.ts';
import { netConfig } from '../../conformance/netConfig.ts';
import { TapNetns } from '../../fixtures/TapNetns.ts';

// RX stall classes without MRG_RXBUF: a receive chain no frame can ever fit (fewer writable bytes
// than a header and an Ethernet header) and a chain with more buffers than one readv can take
// (IOV_MAX less the overflow byte and the bounce buffer: 1022). Either used to be held by the IO
// thread forever, every later frame dropped. The device must return such a chain with used length
// 0, count it as malformed, and deliver frames again once good buffers are posted. The test drives
// the RX ring itself (the driver posts no RX buffers of its own): the bad chain is the first one
// the device sees.

const MAC = Uint8Array.of(0x52, 0x54, 0x00, 0x7e, 0x05, 0x11);
const GOOD = 1526;
const NO_MRG = [N.VIRTIO_NET_F_MRG_RXBUF, N.VIRTIO_NET_F_GUEST_TSO4, N.VIRTIO_NET_F_GUEST_TSO6, N.VIRTIO_NET_F_GUEST_ECN, N.VIRTIO_NET_F_GUEST_UFO].reduce(
  (f, b) => f & ~featureBit(b),
  DRIVER_FEATURES,
);

function config(id: string, queueSize: number): NetDeviceConfig {
  return netConfig('virtio-net', { id, mac: MAC, queueSize, ctrlVq: false });
}

const peer = hostTapPeer();

describe.skipIf(peer.skip)('virtio-net backend: RX chains that can never take a frame (no MRG_RXBUF)', () => {
  const cleanups = cleanupAfterEach(afterEach);

  async function setUp(id: string, queueSize: number): Promise<{ nic: TapNetns; driver: VirtioNetDriver; free: number }> {
    if (peer.reason !== undefined) throw new Error(`host kernel tap peer missing: ${peer.reason}`);
    const nic = TapNetns.create(config(id, queueSize), { packetSocket: true });
    cleanups.push(() => nic.close());
    const driver = await VirtioNetDriver.create({ device: nic.device, features: NO_MRG, queueSize, rxBuffers: 0 });
    cleanups.push(() => driver.close());
    expect(driver.features & featureBit(N.VIRTIO_NET_F_MRG_RXBUF)).toBe(0n);
    // guestMemoryBytes sizes every queue for 64 KiB buffers; with rxBuffers 0 the RX share (and
    // the 1 MiB of slack) at the top of the region is never allocated: the test's own buffers go there.
    const r = driver.memory.regions[0]!;
    return { nic, driver, free: r.guestPhysAddr + r.size - (1 << 20) };
  }

  /** Posts `buffers` as one RX chain (indirect when `table` is given), publishes and kicks. */
  function post(d: VirtioNetDriver, buffers: readonly DriverBuffer[], table?: number): number {
    const q = d.queue(0);
    const head = q.add(d.memory, buffers, table === undefined ? undefined : { indirect: { tableAddr: table } });
    if (head === undefined) throw new Error('RX ring full');
    q.publish(d.memory);
    d.kick(0);
    return head;
  }

  /** Waits for the next used element of the RX ring. */
  async function nextUsed(d: VirtioNetDriver): Promise<{ id: number; len: number }> {
    let got: { id: number; len: number } | undefined;
    await vi.waitFor(
      () => {
        got = d.queue(0).popUsed(d.memory);
        expect(got, 'a used RX element').toBeDefined();
      },
      { timeout: 3000, interval: 5 },
    );
    return got!;
  }

  /** Posts good buffers, sends a frame, and expects it intact in one of them. */
  async function expectResumes(n: TapNetns, d: VirtioNetDriver, free: number): Promise<void> {
    const addrs = [0, 1, 2, 3].map((k) => free + k * 2048);
    const heads = addrs.map((addr) => post(d, [{ addr, len: GOOD, writable: true }]));
    const sent = testFrame(MAC, OUTSIDE_MAC, 7, 600);
    n.send(sent);
    // A frame sent earlier (while no good buffer was there) may come first: look for ours.
    for (;;) {
      const u = await nextUsed(d);
      const k = heads.indexOf(u.id);
      expect(k, `used head ${u.id} is one of the good buffers`).toBeGreaterThanOrEqual(0);
      const frame = d.memory.read(addrs[k]! + VIRTIO_NET_HDR_SIZE, u.len - VIRTIO_NET_HDR_SIZE)!;
      if (u.len === VIRTIO_NET_HDR_SIZE + sent.length && Buffer.compare(Buffer.from(frame), Buffer.from(sent)) === 0) return;
    }
  }

  it('returns a chain of 20 writable bytes with used length 0, counts it, and resumes on good buffers', async () => {
    const { nic: n, driver: d, free } = await setUp('vnt-rxsmall', 256);
    const bad = post(d, [{ addr: free + 65536, len: 20, writable: true }]);
    n.send(testFrame(MAC, OUTSIDE_MAC, 1, 100));
    const u = await nextUsed(d);
    expect(u).toEqual({ id: bad, len: 0 });
    await vi.waitFor(() => expect(n.device.stats()[0]!.malformed).toBe(1), { timeout: 2000 });
    await expectResumes(n, d, free);
  });

  it('returns a chain of 1023 buffers (one more than a readv takes) with used length 0 and resumes', async () => {
    const { nic: n, driver: d, free } = await setUp('vnt-rxlong', 1024);
    const buffers = Array.from({ length: 1023 }, (_, i) => ({ addr: free + 65536 + 4 * i, len: 2, writable: true }));
    const bad = post(d, buffers, free + 32768);
    n.send(testFrame(MAC, OUTSIDE_MAC, 1, 100));
    const u = await nextUsed(d);
    expect(u).toEqual({ id: bad, len: 0 });
    await vi.waitFor(() => expect(n.device.stats()[0]!.malformed).toBe(1), { timeout: 2000 });
    await expectResumes(n, d, free);
  });

  it('fills a chain of exactly 1022 buffers (the bound is not too tight)', async () => {
    const { nic: n, driver: d, free } = await setUp('vnt-rx1022', 1024);
    const base = free + 65536;
    const buffers = Array.from({ length: 1022 }, (_, i) => ({ addr: base + 2 * i, len: 2, writable: true }));
    const head = post(d, buffers, free + 32768);
    const sent = testFrame(MAC, OUTSIDE_MAC, 3, 200);
    n.send(sent);
    const u = await nextUsed(d);
    expect(u).toEqual({ id: head, len: VIRTIO_NET_HDR_SIZE + sent.length });
    // The buffers are contiguous: the frame reads back in one piece after its header.
    const frame = d.memory.read(base + VIRTIO_NET_HDR_SIZE, sent.length)!;
    expect(Buffer.compare(Buffer.from(frame), Buffer.from(sent))).toBe(0);
    expect(n.device.stats()[0]!.malformed).toBe(0);
  });
});
