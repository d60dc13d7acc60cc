import { VIRTIO_CONFIG_S_NEEDS_RESET, VIRTIO_F_EVENT_IDX, VIRTIO_F_VERSION_1, featureBit, hasFeature, virtio_net, type NetDeviceConfig } from '@vnic/core';
import { MemfdGuestMemory } from '@vnic/sys';
import { DRIVER_FEATURES, VirtioNetDriver, type VirtioNetDriverOptions } from '@vnic/driver';
import { VhostUserNetDevice, type VhostUserOptions } from '@vnic/vhost-user';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ConformanceNic, ConformanceTarget } from '../../conformance/ConformanceTarget.ts';
import { OUTSIDE_MAC, frameSeq, isTestFrame, testFrame } from '../../conformance/frames.ts';
import { netConfig } from '../../conformance/netConfig.ts';
import { Testpmd, ensureTestpmd, peerMissing, socketDir } from './Testpmd.ts';

/*
 * The conformance suite's cases that apply to a vhost-user NIC, against a real backend.
 *
 * Why not describeVirtioNetDevice(target) itself: its data-plane counters (packets/bytes per queue,
 * malformed chains) and its ring-corruption case (NEEDS_RESET after an avail idx jump) test what
 * the data plane does, and here the data plane is DPDK's, in another process: vhost-user gives the
 * frontend no counters and no error report (DPDK never signals SET_VRING_ERR), so those checks
 * cannot pass honestly. Every other case is here, unchanged in substance.
 *
 * The "outside": testpmd with two vhost-user ports in io forwarding, paired: port 0 is the NIC
 * under test, port 1 a second vnic vhost-user NIC driven by a second VirtioNetDriver. toGuest()
 * sends on port 1 (testpmd carries it to the NIC under test), fromGuest() reads port 1's RX.
 */

const skip = peerMissing(ensureTestpmd());
const sockets = socketDir();
const DUT = sockets.path('dut.sock');
const PEER = sockets.path('peer.sock');
const opts = (socket: string): VhostUserOptions => ({ socket, mode: 'client', reconnect: true, connectTimeoutMs: 5000, replyTimeoutMs: 2000 });

let pmd: Testpmd | undefined;

/** How often testpmd said the NIC under test's port became ready (after each activation). */
const readyCount = (): number => pmd!.output.split(`(${DUT}) virtio is now ready for processing`).length - 1;

/**
 * Waits until testpmd has started the NIC under test's rings: DPDK acks the last activation
 * message before its vhost PMD starts queuing, and frames sent towards the port before that are
 * dropped (as a physical NIC drops frames before its link is up).
 */
async function dutReady(before: number): Promise<void> {
  const deadline = Date.now() + 5000;
  while (readyCount() <= before) {
    if (Date.now() > deadline) throw new Error(`testpmd never started the rings of ${DUT}:\n${pmd!.output.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 5));
  }
  await new Promise((r) => setTimeout(r, 20));
}

const target: ConformanceTarget = {
  backend: 'vhost-user',
  async setup(config: NetDeviceConfig): Promise<ConformanceNic> {
    const device = await VhostUserNetDevice.create(config, opts(DUT));
    const peerDevice = await VhostUserNetDevice.create(netConfig('vhost-user'), opts(PEER));
    const outside = await VirtioNetDriver.create({ device: peerDevice });
    await pmd!.waitForwarding();
    const backlog: Uint8Array[] = [];
    return {
      device,
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

describe.skipIf(skip)('VirtioNetDevice conformance (applicable cases): vhost-user over DPDK testpmd', () => {
  beforeAll(async () => {
    pmd = await Testpmd.start({ socket: DUT, socket2: PEER, forwardMode: 'io' });
  });
  afterAll(async () => {
    await pmd?.stop();
    sockets.remove();
  });

  const open: { nic: ConformanceNic; drivers: VirtioNetDriver[] }[] = [];
  async function start(
    overrides: Partial<NetDeviceConfig> = {},
    driverOptions: Omit<VirtioNetDriverOptions, 'device'> = {},
  ): Promise<{ nic: ConformanceNic; driver: VirtioNetDriver; config: NetDeviceConfig }> {
    const config = netConfig(target.backend, overrides);
    const nic = await target.setup(config);
    const entry = { nic, drivers: [] as VirtioNetDriver[] };
    open.push(entry);
    const before = readyCount();
    const driver = await VirtioNetDriver.create({ device: nic.device, ...driverOptions });
    entry.drivers.push(driver);
    await dutReady(before);
    return { nic, driver, config };
  }
  afterEach(async () => {
    for (const { nic, drivers } of open.splice(0)) {
      for (const d of drivers) await d.close();
      await nic.teardown();
    }
  });
  const N = virtio_net;

  it('offers VERSION_1, MAC and STATUS, and honours the config mask', async () => {
    const { nic, driver, config } = await start({ mrgRxbuf: false, offloads: { ...netConfig('x').offloads, hostUfo: false } });
    const offered = nic.device.deviceFeatures;
    expect(hasFeature(offered, VIRTIO_F_VERSION_1)).toBe(true);
    expect(hasFeature(offered, N.VIRTIO_NET_F_MAC)).toBe(true);
    expect(hasFeature(offered, N.VIRTIO_NET_F_MRG_RXBUF)).toBe(false);
    expect(hasFeature(offered, N.VIRTIO_NET_F_HOST_UFO)).toBe(false);
    expect(nic.device.ackedFeatures).toBe(driver.features);
    const cfg = driver.readConfig();
    expect([...cfg.mac]).toEqual([...config.mac]);
    expect(cfg.status & N.VIRTIO_NET_S_LINK_UP).toBe(N.VIRTIO_NET_S_LINK_UP);
  });

  it('activates at DRIVER_OK with one stats row per queue', async () => {
    const { nic, driver } = await start();
    expect(nic.device.activated).toBe(true);
    expect(nic.device.stats().map((s) => s.index)).toEqual([...Array(nic.device.numQueues).keys()]);
    expect(driver.status() & VIRTIO_CONFIG_S_NEEDS_RESET).toBe(0);
  });

  it('carries frames from the guest out, byte for byte and in order', async () => {
    const { nic, driver, config } = await start();
    const sent = [60, 64, 128, 511, 1000, 1514].map((n, i) => testFrame(OUTSIDE_MAC, config.mac, i, n));
    for (const f of sent) expect(driver.send(f)).toBe(true);
    const got = await nic.fromGuest(sent.length);
    expect(got.map((f) => [...f])).toEqual(sent.map((f) => [...f]));
    await driver.flushTx();
  });

  for (const layout of ['split', 'indirect'] as const) {
    it(`accepts frames posted with the ${layout} descriptor layout`, async () => {
      const { nic, driver, config } = await start({}, { txLayout: layout });
      const sent = [100, 1514].map((n, i) => testFrame(OUTSIDE_MAC, config.mac, 100 + i, n));
      expect(driver.sendBatch(sent)).toBe(2);
      const got = await nic.fromGuest(2);
      expect(got.map((f) => [...f])).toEqual(sent.map((f) => [...f]));
    });
  }

  it('delivers frames from the outside into the guest, byte for byte', async () => {
    const { nic, driver, config } = await start();
    const sent = [60, 300, 1514].map((n, i) => testFrame(config.mac, OUTSIDE_MAC, 200 + i, n));
    for (const f of sent) await nic.toGuest(f);
    const got = await driver.receiveMany(sent.length);
    expect(got.map((r) => frameSeq(r.frame))).toEqual([200, 201, 202]);
    expect(got.map((r) => [...r.frame])).toEqual(sent.map((f) => [...f]));
  });

  it('spreads a frame over several small buffers with MRG_RXBUF (num_buffers)', async () => {
    const { nic, driver, config } = await start({}, { rxBufferSize: 256 });
    expect(hasFeature(driver.features, N.VIRTIO_NET_F_MRG_RXBUF)).toBe(true);
    const frame = testFrame(config.mac, OUTSIDE_MAC, 300, 1514);
    await nic.toGuest(frame);
    const r = await driver.receive();
    expect(r).toBeDefined();
    expect(r!.buffers).toBe(Math.ceil((1514 + N.VIRTIO_NET_HDR_SIZE) / 256));
    expect(r!.hdr.numBuffers).toBe(r!.buffers);
    expect([...r!.frame]).toEqual([...frame]);
  });

  it('uses one big buffer per frame without MRG_RXBUF', async () => {
    const { nic, driver, config } = await start({}, { features: DRIVER_FEATURES & ~featureBit(N.VIRTIO_NET_F_MRG_RXBUF) });
    expect(hasFeature(driver.features, N.VIRTIO_NET_F_MRG_RXBUF)).toBe(false);
    const frame = testFrame(config.mac, OUTSIDE_MAC, 400, 1514);
    await nic.toGuest(frame);
    const r = await driver.receive();
    expect(r?.buffers).toBe(1);
    expect([...r!.frame]).toEqual([...frame]);
  });

  it('works without EVENT_IDX (flag-based notification suppression)', async () => {
    const { nic, driver, config } = await start({}, { features: DRIVER_FEATURES & ~featureBit(VIRTIO_F_EVENT_IDX) });
    expect(hasFeature(driver.features, VIRTIO_F_EVENT_IDX)).toBe(false);
    const out = Array.from({ length: 20 }, (_, i) => testFrame(OUTSIDE_MAC, config.mac, 500 + i, 200));
    expect(driver.sendBatch(out)).toBe(20);
    expect((await nic.fromGuest(20)).map(frameSeq)).toEqual(out.map(frameSeq));
    await nic.toGuest(testFrame(config.mac, OUTSIDE_MAC, 600, 200));
    expect((await driver.receive())?.frame.length).toBe(200);
  });

  it('answers control commands in the VMM: MAC_ADDR_SET ok, VLAN out of range refused, counted on the ctrl queue', async () => {
    const { nic, driver } = await start();
    expect(await driver.ctrl({ kind: 'mac-addr-set', mac: Uint8Array.of(0x52, 0x54, 0, 1, 2, 3) })).toBe(N.VIRTIO_NET_OK);
    expect(await driver.ctrl({ kind: 'vlan-add', vid: 100 })).toBe(N.VIRTIO_NET_OK);
    expect(await driver.ctrl({ kind: 'vlan-add', vid: 5000 })).toBe(N.VIRTIO_NET_ERR);
    expect(await driver.ctrl(Uint8Array.of(0x7f, 0))).toBe(N.VIRTIO_NET_ERR);
    const ctrl = nic.device.stats()[driver.ctrlIndex!]!;
    expect(ctrl.packets).toBeGreaterThanOrEqual(4);
  });

  it('reports link changes in config space with a config interrupt', async () => {
    const { nic, driver } = await start();
    const before = driver.configInterrupts;
    nic.device.setLinkUp(false);
    expect(driver.readConfig().status & N.VIRTIO_NET_S_LINK_UP).toBe(0);
    expect(driver.configInterrupts).toBeGreaterThan(before);
    expect(driver.ackInterrupts() & 2).toBe(2);
    nic.device.setLinkUp(true);
    expect(driver.readConfig().status & N.VIRTIO_NET_S_LINK_UP).toBe(N.VIRTIO_NET_S_LINK_UP);
  });

  it('returns ring state on reset (GET_VRING_BASE) and works again after re-activation', async () => {
    const { nic, driver, config } = await start();
    const out = Array.from({ length: 5 }, (_, i) => testFrame(OUTSIDE_MAC, config.mac, 700 + i, 100));
    expect(driver.sendBatch(out)).toBe(5);
    await nic.fromGuest(5);
    await driver.flushTx();
    // DPDK 22.11 keeps its old mapping when SET_MEM_TABLE repeats the same guest and user addresses
    // ("memory regions not changed"), even with a new memfd. A VMM keeps guest RAM across a guest
    // reset, so that never matters there; this test's second driver allocates NEW RAM, so it must not
    // land at the address the first one freed: hold a same-sized placeholder while it allocates.
    const placeholderBytes = driver.guestMemory!.layout.regions[0]!.size;
    await driver.close();
    expect(nic.device.activated).toBe(false);
    const placeholder = MemfdGuestMemory.create({ regions: [{ guestPhysAddr: 0, size: placeholderBytes }], name: 'vnic-placeholder' });
    const before = readyCount();
    const again = await VirtioNetDriver.create({ device: nic.device });
    placeholder.close();
    open.at(-1)!.drivers.push(again);
    await dutReady(before);
    expect(nic.device.activated).toBe(true);
    expect(again.send(testFrame(OUTSIDE_MAC, config.mac, 800, 128))).toBe(true);
    expect((await nic.fromGuest(1)).map(frameSeq)).toEqual([800]);
    await nic.toGuest(testFrame(config.mac, OUTSIDE_MAC, 801, 128));
    expect((await again.receive()) && true).toBe(true);
    const tx = again.queue(1);
    await again.flushTx();
    const states = await nic.device.reset();
    expect(states[1]).toEqual({ nextAvail: tx.nextAvail, nextUsed: tx.nextAvail });
  });
});
