import { VirtioNetDriver } from '@vnic/driver';
import { MemfdDirtyLog } from '@vnic/sys';
import { fdCount, waitUntil } from '@vnic/sys/testing';
import { VhostUserNetDevice } from '@vnic/vhost-user';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { netConfig } from '../../conformance/netConfig.ts';
import { DeviceTapSide } from './DeviceTapSide.ts';
import { audit, snapshot } from './dirtyLogAudit.ts';
import { TapSide } from './TapSide.ts';
import { socketDir } from './peerSupport.ts';
import { hostileTestsRun } from '../vhost-user-device/hostileServer.ts';

// vnic on both sides of the dirty log: vnic's vhost-user frontend (VhostUserNetDevice, @vnic/driver
// as the guest) hands its MemfdDirtyLog to `vnic serve`'s device server (VhostUserDeviceServer,
// its tap in a namespace), whose IO threads mark every guest page they write. Frames go both ways
// (tap -> guest RX buffers, guest -> tap); afterwards every RX buffer and used-ring page the
// server wrote is marked and no byte changed outside the log but the driver's own. Then logging
// goes on and off 100 times under traffic: the server's mapping of the log comes and goes (exact
// counts), no fd is left behind.

const root = hostileTestsRun('vhost-user dirty log with vnic serve');
const sockets = socketDir();
afterAll(() => sockets.remove());
const LOG_NAME = 'vnic-dl-serve';

describe.skipIf(!root)('dirty log: vnic frontend -> vnic serve backend', () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  async function rig(name: string): Promise<{ side: DeviceTapSide; device: VhostUserNetDevice; driver: VirtioNetDriver; log: MemfdDirtyLog }> {
    const sock = sockets.path(`${name}.sock`);
    const side = DeviceTapSide.create({ socket: sock });
    cleanup.push(() => side.close());
    side.server.start();
    const config = netConfig('vhost-user');
    const device = await VhostUserNetDevice.create(config, { socket: sock, mode: 'client', reconnect: false, connectTimeoutMs: 5000, replyTimeoutMs: 5000 });
    cleanup.push(() => device.close());
    const driver = await VirtioNetDriver.create({ device });
    cleanup.push(() => driver.close());
    await waitUntil(() => side.server.connected, 'the frontend connected to vnic serve', 15_000);
    const r0 = driver.memory.regions[0]!;
    const log = MemfdDirtyLog.create(r0.guestPhysAddr + r0.size, LOG_NAME);
    cleanup.push(() => log.close());
    return { side, device, driver, log };
  }

  /** `n` frames tap -> guest (checked by sequence number) and `n` guest -> tap. */
  async function traffic(side: DeviceTapSide, driver: VirtioNetDriver, seq0: number, n: number): Promise<void> {
    side.inject(Array.from({ length: n }, (_, i) => TapSide.frame(seq0 + i, 64 + ((i * 131) % 1400))));
    const got: number[] = [];
    const deadline = Date.now() + 10_000;
    while (got.length < n && Date.now() < deadline) {
      const r = await driver.receive(0, 200);
      const s = r === undefined ? undefined : TapSide.seqOf(r.frame);
      if (s !== undefined && s >= seq0 && s < seq0 + n) got.push(s);
    }
    driver.reclaim(0);
    expect(got).toEqual(Array.from({ length: n }, (_, i) => seq0 + i));
    for (let i = 0; i < n; i++) {
      if (!driver.send(TapSide.frame(seq0 + 100_000 + i, 64 + i))) {
        await driver.flushTx(0);
        driver.send(TapSide.frame(seq0 + 100_000 + i, 64 + i));
      }
    }
    const out = await side.collect(n, 10_000, (s) => s >= seq0 + 100_000);
    expect(out.length).toBe(n);
  }

  it('logging on: vnic serve marks every RX buffer and used-ring page it writes, no page changes outside the log', async () => {
    const { side, device, driver, log } = await rig('dl-serve');
    await traffic(side, driver, 1, 8); // the rings run
    const logging = new Promise<void>((resolve) => side.server.events.on('dirty-log', (i) => i.logging && resolve()));
    let setBits: number | undefined;
    side.server.events.on('dirty-log', (i) => {
      if (!i.logging && i.setBits !== undefined) setBits = i.setBits;
    });
    await device.startDirtyLog(log.log);
    await logging;
    const rx = driver.queue(0);
    const tx = driver.queue(1);
    const before = snapshot(driver.memory, [rx, tx]);
    for (let round = 0; round < 3; round++) await traffic(side, driver, 1000 * (round + 1), 32);
    const a = audit(driver.memory, before, log.log, [rx, tx], [rx]);
    console.log(`[dirtylog serve] ${a.usedEntries} used entries, ${a.rxBuffers} RX buffers, ${a.changedPages} pages changed, ${a.loggedPages} pages logged`);
    expect(a.rxBuffers).toBeGreaterThanOrEqual(96);
    expect(a.missing).toEqual([]);
    expect(a.unlogged).toEqual([]);
    await device.stopDirtyLog();
    // The server's exact count: every bit it set from 0 to 1, and the VMM took none meanwhile, so
    // it is the log's own count (the sampled `pages` is only a lower bound).
    await waitUntil(() => setBits !== undefined, "vnic serve's dirty-log report when logging ends", 10_000);
    expect(setBits).toBe(log.log.countDirty());
    log.log.clear();
    await traffic(side, driver, 9000, 16);
    expect(log.log.countDirty()).toBe(0); // logging off: the server marks nothing
  }, 90_000);

  it('on and off 100 times under traffic: the server maps the log while on and releases it when off (exact counts), no fd leaked', async () => {
    const { side, device, driver, log } = await rig('dl-serve100');
    await traffic(side, driver, 1, 8);
    expect(fdCount.memfdMappings(LOG_NAME)).toBe(1); // the VMM's own mapping
    const fds0 = fdCount.fds();
    let on = 0;
    side.server.events.on('dirty-log', (i) => {
      if (i.logging) on++;
    });
    for (let i = 0; i < 100; i++) {
      await device.startDirtyLog(log.log);
      expect(fdCount.memfdMappings(LOG_NAME)).toBe(2); // + vnic serve's
      await traffic(side, driver, 10 + 4 * i, 4);
      await device.stopDirtyLog();
      expect(fdCount.memfdMappings(LOG_NAME)).toBe(1);
    }
    expect(on).toBe(100);
    expect(log.log.countDirty()).toBeGreaterThan(0);
    expect(fdCount.fds()).toBe(fds0);
  }, 240_000);
});
