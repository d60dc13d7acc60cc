import { VirtioNetDriver } from '@vnic/driver';
import { MemfdDirtyLog } from '@vnic/sys';
import { fdCount } from '@vnic/sys/testing';
import { VhostUserNetDevice, type VhostUserOptions } from '@vnic/vhost-user';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { frameSeq } from '../../conformance/frames.ts';
import { netConfig } from '../../conformance/netConfig.ts';
import { Testpmd } from '@vnic/cli';
import { audit, snapshot } from './dirtyLogAudit.ts';
import { awaitFlowing, macswapRoundTrip } from './pmdLoop.ts';
import { peerMissing, socketDir } from './peerSupport.ts';

// The vhost-user frontend's dirty log against REAL DPDK testpmd (its vhost PMD offers
// PROTOCOL_F_LOG_SHMFD and VHOST_F_LOG_ALL): vnic hands testpmd the log's memfd (SET_LOG_BASE),
// turns LOG_ALL on and VHOST_VRING_F_LOG on every ring, and @vnic/driver as the guest sends frames
// that testpmd loops back (macswap) into its RX buffers. Afterwards every page testpmd wrote (each
// RX buffer it filled, each used-ring entry and used->idx, found from the rings the test posted)
// is marked, and guest memory compared with a copy taken when logging began changed nowhere
// outside the log except where the driver itself writes.

const missing = Testpmd.ensure();
const skip = peerMissing(missing);
const sockets = socketDir();
afterAll(() => sockets.remove());

function options(socket: string): VhostUserOptions {
  return { socket, mode: 'client', reconnect: false, connectTimeoutMs: 5000, replyTimeoutMs: 2000 };
}

describe.skipIf(skip)('vhost-user dirty log against DPDK testpmd', () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  /** testpmd (macswap) on a fresh socket, a vhost-user NIC on it and the TS driver, frames already looping. */
  async function loopingNic(name: string) {
    const sock = sockets.path(name);
    const pmd = await Testpmd.start({ socket: sock });
    cleanup.push(() => pmd.stop());
    const config = netConfig('vhost-user');
    const device = await VhostUserNetDevice.create(config, options(sock));
    cleanup.push(() => device.close());
    const driver = await VirtioNetDriver.create({ device });
    cleanup.push(() => driver.close());
    await pmd.waitForwarding();
    await pmd.waitReady(sock);
    await awaitFlowing(driver, config.mac);
    return { pmd, config, device, driver };
  }

  it('logging on: testpmd marks every RX buffer and used-ring page it writes, no page changes outside the log', async () => {
    const { pmd, config, device, driver } = await loopingNic('dl.sock');
    const rx = driver.queue(0);
    const tx = driver.queue(1);
    const r0 = driver.memory.regions[0]!;
    const memfdLog = MemfdDirtyLog.create(r0.guestPhysAddr + r0.size);
    cleanup.push(() => memfdLog.close());
    await device.startDirtyLog(memfdLog.log);
    await pmd.waitFor('read message VHOST_USER_SET_LOG_BASE');
    const before = snapshot(driver.memory, [rx, tx]);
    let seq = 1;
    for (let round = 0; round < 3; round++) {
      const { sent, got } = await macswapRoundTrip(driver, config.mac, seq, 32);
      expect(got.map(frameSeq)).toEqual(sent.map(frameSeq));
      seq += 32;
    }
    const a = audit(driver.memory, before, memfdLog.log, [rx, tx], [rx]);
    console.log(`[dirtylog testpmd] ${a.usedEntries} used entries, ${a.rxBuffers} RX buffers, ${a.changedPages} pages changed, ${a.loggedPages} pages logged`);
    expect(a.rxBuffers).toBeGreaterThanOrEqual(96);
    expect(a.missing).toEqual([]);
    expect(a.unlogged).toEqual([]);
    expect(a.loggedPages).toBeGreaterThan(0);
    await device.stopDirtyLog();
    // Logging off: testpmd no longer marks (a round trip leaves the cleared log clean).
    memfdLog.log.clear();
    const { sent, got } = await macswapRoundTrip(driver, config.mac, seq, 16);
    expect(got.map(frameSeq)).toEqual(sent.map(frameSeq));
    expect(memfdLog.log.countDirty()).toBe(0);
  }, 60_000);

  it('on and off 100 times under traffic: every toggle answered within the reply timeout, frames keep looping, no fd leaked', async () => {
    const { config, device, driver } = await loopingNic('dl100.sock');
    const r0 = driver.memory.regions[0]!;
    const memfdLog = MemfdDirtyLog.create(r0.guestPhysAddr + r0.size);
    cleanup.push(() => memfdLog.close());
    const fds0 = fdCount.fds();
    let seq = 1;
    for (let i = 0; i < 100; i++) {
      await device.startDirtyLog(memfdLog.log);
      const { sent, got } = await macswapRoundTrip(driver, config.mac, seq, 4);
      expect(got.map(frameSeq)).toEqual(sent.map(frameSeq));
      seq += 4;
      await device.stopDirtyLog();
    }
    expect(memfdLog.log.countDirty()).toBeGreaterThan(0);
    expect(fdCount.fds()).toBe(fds0);
  }, 180_000);
});
