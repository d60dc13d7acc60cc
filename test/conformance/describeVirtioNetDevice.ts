import {
  PackedDriverQueue,
  VIRTIO_CONFIG_S_NEEDS_RESET,
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_IN_ORDER,
  VIRTIO_F_RING_PACKED,
  VIRTIO_F_VERSION_1,
  featureBit,
  hasFeature,
  virtio_net,
  type NetDeviceConfig,
} from '@vnic/core';
import { CHAIN_LEVEL_MALFORMED, DRIVER_FEATURES, PACKED_CHAIN_LEVEL_MALFORMED, VirtioNetDriver, type VirtioNetDriverOptions } from '@vnic/driver';
import { afterEach, describe, expect, it } from 'vitest';
import type { ConformanceNic, ConformanceTarget } from './ConformanceTarget.ts';
import { OUTSIDE_MAC, frameSeq, testFrame } from './frames.ts';
import { netConfig } from './netConfig.ts';

const N = virtio_net;

/**
 * The one contract suite every backend must pass, driven through @vnic/driver the way a guest
 * kernel drives a NIC: negotiation, activation, frames both ways (MRG_RXBUF and not, every TX
 * descriptor layout), control commands, link status, reset + re-activate, malformed chains. With
 * `target.ring: 'packed'` every driver asks for VIRTIO_F_RING_PACKED and the whole suite runs on
 * packed rings (malformed lists: the kinds a packed ring can carry, PACKED_CHAIN_LEVEL_MALFORMED;
 * ring corruption: a list running into a descriptor never made available).
 */
export function describeVirtioNetDevice(target: ConformanceTarget): void {
  const ring = target.ring ?? 'split';
  const packed = ring === 'packed';
  const inOrder = target.inOrder === true;
  describe(`VirtioNetDevice conformance: ${target.backend}${packed ? ' (packed rings)' : ''}${inOrder ? ' (IN_ORDER)' : ''}`, () => {
    const open: { nic: ConformanceNic; drivers: VirtioNetDriver[] }[] = [];
    const counters = target.capabilities?.dataPlaneCounters !== false;
    const ringCorruption = target.capabilities?.reportsRingCorruption !== false;
    const noCounters = ' [data-plane counters left out: the data plane runs outside vnic and reports none]';

    /** A (new) guest driver on the NIC, through the target's startDriver when it has one. */
    async function startDriver(nic: ConformanceNic, options: VirtioNetDriverOptions): Promise<VirtioNetDriver> {
      const o = { ring, inOrder, ...options };
      return nic.startDriver !== undefined ? nic.startDriver(o) : VirtioNetDriver.create(o);
    }

    async function start(
      overrides: Partial<NetDeviceConfig> = {},
      driverOptions: Omit<VirtioNetDriverOptions, 'device'> = {},
    ): Promise<{ nic: ConformanceNic; driver: VirtioNetDriver; config: NetDeviceConfig }> {
      const config = netConfig(target.backend, overrides);
      const nic = await target.setup(config);
      const entry = { nic, drivers: [] as VirtioNetDriver[] };
      open.push(entry);
      const driver = await startDriver(nic, { device: nic.device, ...driverOptions });
      entry.drivers.push(driver);
      return { nic, driver, config };
    }

    afterEach(async () => {
      for (const { nic, drivers } of open.splice(0)) {
        for (const d of drivers) await d.close();
        await nic.teardown();
      }
    });

    it('offers VERSION_1, MAC and STATUS, and honours the config mask', async () => {
      const { nic, driver, config } = await start({ mrgRxbuf: false, offloads: { ...netConfig('x').offloads, hostUfo: false } });
      const offered = nic.device.deviceFeatures;
      expect(hasFeature(offered, VIRTIO_F_VERSION_1)).toBe(true);
      expect(hasFeature(offered, N.VIRTIO_NET_F_MAC)).toBe(true);
      expect(hasFeature(offered, N.VIRTIO_NET_F_MRG_RXBUF)).toBe(false);
      expect(hasFeature(offered, N.VIRTIO_NET_F_HOST_UFO)).toBe(false);
      expect(nic.device.ackedFeatures).toBe(driver.features);
      expect(driver.features & ~offered).toBe(0n);
      expect(hasFeature(driver.features, VIRTIO_F_RING_PACKED)).toBe(packed);
      expect(hasFeature(driver.features, VIRTIO_F_IN_ORDER)).toBe(inOrder);
      const cfg = driver.readConfig();
      expect([...cfg.mac]).toEqual([...config.mac]);
      expect(cfg.status & N.VIRTIO_NET_S_LINK_UP).toBe(N.VIRTIO_NET_S_LINK_UP);
    });

    it('activates at DRIVER_OK with one stats row per queue', async () => {
      const { nic, driver } = await start();
      expect(nic.device.activated).toBe(true);
      const stats = nic.device.stats();
      expect(stats.map((s) => s.index)).toEqual([...Array(nic.device.numQueues).keys()]);
      expect(driver.status() & VIRTIO_CONFIG_S_NEEDS_RESET).toBe(0);
    });

    it(`carries frames from the guest out, byte for byte and in order${counters ? '' : noCounters}`, async () => {
      const { nic, driver, config } = await start();
      const sizes = [60, 64, 128, 511, 1000, 1514];
      const sent = sizes.map((n, i) => testFrame(OUTSIDE_MAC, config.mac, i, n));
      for (const f of sent) expect(driver.send(f)).toBe(true);
      const got = await nic.fromGuest(sent.length);
      expect(got.map((f) => [...f])).toEqual(sent.map((f) => [...f]));
      await driver.flushTx();
      if (!counters) return;
      const tx = nic.device.stats()[1]!;
      expect(tx.packets).toBeGreaterThanOrEqual(sent.length);
      expect(tx.bytes).toBeGreaterThanOrEqual(sizes.reduce((a, b) => a + b, 0));
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

    it(`delivers frames from the outside into the guest, byte for byte${counters ? '' : noCounters}`, async () => {
      const { nic, driver, config } = await start();
      const sent = [60, 300, 1514].map((n, i) => testFrame(config.mac, OUTSIDE_MAC, 200 + i, n));
      for (const f of sent) await nic.toGuest(f);
      const got = await driver.receiveMany(sent.length);
      expect(got.map((r) => frameSeq(r.frame))).toEqual([200, 201, 202]);
      expect(got.map((r) => [...r.frame])).toEqual(sent.map((f) => [...f]));
      if (counters) expect(nic.device.stats()[0]!.packets).toBeGreaterThanOrEqual(3);
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
      const back = testFrame(config.mac, OUTSIDE_MAC, 600, 200);
      await nic.toGuest(back);
      expect((await driver.receive())?.frame.length).toBe(200);
    });

    it('answers control commands: MAC_ADDR_SET ok, VLAN out of range refused', async () => {
      const { driver } = await start();
      expect(await driver.ctrl({ kind: 'mac-addr-set', mac: Uint8Array.of(0x52, 0x54, 0, 1, 2, 3) })).toBe(N.VIRTIO_NET_OK);
      expect(await driver.ctrl({ kind: 'vlan-add', vid: 100 })).toBe(N.VIRTIO_NET_OK);
      expect(await driver.ctrl({ kind: 'vlan-add', vid: 5000 })).toBe(N.VIRTIO_NET_ERR);
      expect(await driver.ctrl(Uint8Array.of(0x7f, 0))).toBe(N.VIRTIO_NET_ERR);
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

    it('returns ring state on reset and works again after re-activation', async () => {
      const { nic, driver, config } = await start();
      const out = Array.from({ length: 5 }, (_, i) => testFrame(OUTSIDE_MAC, config.mac, 700 + i, 100));
      expect(driver.sendBatch(out)).toBe(5);
      await nic.fromGuest(5);
      await driver.flushTx();
      await driver.close();
      expect(nic.device.activated).toBe(false);
      // A second driver (a rebooted guest) on the same device.
      const again = await startDriver(nic, { device: nic.device });
      open.at(-1)!.drivers.push(again);
      expect(nic.device.activated).toBe(true);
      const f = testFrame(OUTSIDE_MAC, config.mac, 800, 128);
      expect(again.send(f)).toBe(true);
      expect((await nic.fromGuest(1)).map(frameSeq)).toEqual([800]);
      await nic.toGuest(testFrame(config.mac, OUTSIDE_MAC, 801, 128));
      expect((await again.receive()) && true).toBe(true);
      const tx = again.ring(1);
      await again.flushTx();
      const states = await nic.device.reset();
      // Everything sent came back: the device resumes where the driver writes next (packed: with its lap).
      const at = tx.nextAvail;
      const expected =
        tx instanceof PackedDriverQueue
          ? { nextAvail: tx.nextAvail.pos, nextUsed: tx.nextAvail.pos, availWrap: tx.nextAvail.wrap, usedWrap: tx.nextAvail.wrap }
          : { nextAvail: at, nextUsed: at };
      expect(states[1]).toEqual(expected);
    });

    it.skipIf(!counters)(
      `returns every malformed chain with used length 0, counts it, and keeps serving${counters ? '' : ' [skipped: needs data-plane counters; the data plane runs outside vnic]'}`,
      async () => {
        const { nic, driver, config } = await start();
        let seq = 900;
        for (const kind of packed ? PACKED_CHAIN_LEVEL_MALFORMED : CHAIN_LEVEL_MALFORMED) {
          const before = nic.device.stats()[1]!.malformed;
          driver.postMalformed(kind);
          const good = testFrame(OUTSIDE_MAC, config.mac, seq++, 100);
          expect(driver.send(good), kind).toBe(true);
          expect((await nic.fromGuest(1)).map(frameSeq), kind).toEqual([seq - 1]);
          expect(nic.device.stats()[1]!.malformed, kind).toBe(before + 1);
          await driver.flushTx();
        }
        expect(driver.status() & VIRTIO_CONFIG_S_NEEDS_RESET).toBe(0);
      },
    );

    it.skipIf(!ringCorruption)(
      `reports NEEDS_RESET on ring-level corruption and recovers after reset${ringCorruption ? '' : ' [skipped: the backend has no way to report a corrupted ring]'}`,
      async () => {
        const { nic, driver, config } = await start();
        const reasons: string[] = [];
        nic.device.events.on('needs-reset', (why) => reasons.push(why));
        driver.postMalformed('avail-idx-jump');
        const deadline = Date.now() + 2000;
        while ((driver.status() & VIRTIO_CONFIG_S_NEEDS_RESET) === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
        expect(driver.status() & VIRTIO_CONFIG_S_NEEDS_RESET).toBe(VIRTIO_CONFIG_S_NEEDS_RESET);
        expect(reasons.join()).toMatch(/avail/);
        await driver.close();
        const again = await startDriver(nic, { device: nic.device });
        open.at(-1)!.drivers.push(again);
        expect(again.send(testFrame(OUTSIDE_MAC, config.mac, 1000, 64))).toBe(true);
        expect((await nic.fromGuest(1)).map(frameSeq)).toEqual([1000]);
      },
    );
  });
}
