import { DirtyLog, VnicError } from '@vnic/core';
import { VirtioNetDriver } from '@vnic/driver';
import { MemfdDirtyLog } from '@vnic/sys';
import { fdCount } from '@vnic/sys/testing';
import { VhostNetDevice } from '@vnic/vhost-net';
import { describe, expect, it } from 'vitest';
import { frameSeq, isTestFrame, OUTSIDE_MAC, testFrame } from '../../conformance/frames.ts';
import { netConfig } from '../../conformance/netConfig.ts';
import { loggedRound, memoryEnd, toggledRounds } from '../../peers/dirtylog/dirtyLogTraffic.ts';
import { TapNetns } from '../../fixtures/TapNetns.ts';
import { vhostNetPeer } from './vhostNetPeer.ts';

// Dirty logging of the vhost-net backend (inside the test VM): the kernel's vhost_net worker moves
// the frames and marks what it writes in a memfd log vnic handed it (VHOST_SET_LOG_BASE,
// VHOST_F_LOG_ALL, VHOST_VRING_F_LOG per vring), @vnic/driver is the guest, the tap lives in a
// namespace. Every page of guest memory that changed while only the kernel wrote it is in the log
// (guest memory compared with a copy taken when the round began), every page the kernel is known
// to have written (the RX buffers it filled, both used rings: the test posted them) is marked,
// logging survives a guest reset, nothing is marked once logging is off, and switching it on and
// off 100 times under traffic loses no frame and leaks no fd and no mapping. The kernel counts no
// frames (stats() are zeros), so rounds follow the used rings.

const MAC = Uint8Array.of(0x52, 0x54, 0x00, 0x7e, 0x40, 0x0d);
const reason = vhostNetPeer();

function open(id: string): TapNetns<VhostNetDevice> {
  return TapNetns.create(netConfig('vhost-net', { id, mac: MAC, queueSize: 256 }), { packetSocket: true, open: (c) => VhostNetDevice.open(c) });
}

describe('vhost-net backend: dirty logging by the kernel (test VM, TS driver as the guest)', () => {
  it('the kernel marks every page it writes, RX buffers and used rings, both ways; kept across a guest reset; nothing once stopped', async () => {
    if (reason !== undefined) throw new Error(`kernel vhost_net peer missing: ${reason}`);
    const fds = fdCount.fds();
    const nic = open('vhndl0');
    let driver: VirtioNetDriver | undefined;
    let mlog: MemfdDirtyLog | undefined;
    try {
      driver = await VirtioNetDriver.create({ device: nic.device, queueSize: 256 });
      // A log the kernel cannot reach (no host address) is refused, saying what to give instead.
      const err: unknown = await nic.device.startDirtyLog(DirtyLog.allocate(memoryEnd(driver))).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(VnicError.is(err) && err.kind).toBe('invalid-argument');
      expect((err as Error).message).toMatch(/vhndl0: the dirty log has no host address: .*VHOST_SET_LOG_BASE.*MemfdDirtyLog/);
      expect(nic.device.dirtyLog).toBeUndefined();

      mlog = MemfdDirtyLog.create(memoryEnd(driver), 'vhndl-log');
      await nic.device.startDirtyLog(mlog.log);
      expect(nic.device.dirtyLog).toBe(mlog.log);
      const first = await loggedRound(nic, driver, mlog.log, MAC, 1000, 48, { progress: 'used-ring' });
      console.log(`[dirtylog vhost-net] ${first.changedPages} pages changed, ${first.expectedPages} written by the kernel, ${first.loggedPages} logged`);
      expect(first.expectedPages).toBeGreaterThan(2);
      await loggedRound(nic, driver, mlog.log, MAC, 2000, 48, { progress: 'used-ring' });

      // A guest reset while logging: the next activation hands the kept log to the kernel again.
      await driver.close();
      driver = await VirtioNetDriver.create({ device: nic.device, queueSize: 256 });
      expect(nic.device.dirtyLog).toBe(mlog.log);
      await loggedRound(nic, driver, mlog.log, MAC, 3000, 32, { progress: 'used-ring' });

      await nic.device.stopDirtyLog();
      expect(nic.device.dirtyLog).toBeUndefined();
      // Logging off: the kernel marks nothing (LOG_ALL and VHOST_VRING_F_LOG cleared).
      mlog.log.clear();
      for (let s = 0; s < 20; s++) expect(driver.send(testFrame(OUTSIDE_MAC, MAC, 4000 + s, 80))).toBe(true);
      await driver.flushTx(0, 20_000);
      expect((await nic.capture(20, isTestFrame, 20_000)).map(frameSeq)).toEqual(Array.from({ length: 20 }, (_, i) => 4000 + i));
      for (let s = 0; s < 20; s++) nic.send(testFrame(MAC, OUTSIDE_MAC, 4000 + s, 80));
      for (let s = 0; s < 20; s++) expect(await driver.receive(0, 20_000)).toBeDefined();
      expect(mlog.log.countDirty()).toBe(0);
    } finally {
      await driver?.close();
      await nic.close();
      mlog?.close();
    }
    expect(fdCount.fds()).toBe(fds);
  }, 300_000);

  it('logging switched on and off 100 times under traffic both ways: no frame lost, no fd or mapping leaked', async () => {
    if (reason !== undefined) throw new Error(`kernel vhost_net peer missing: ${reason}`);
    const fds = fdCount.fds();
    const nic = open('vhndl1');
    let driver: VirtioNetDriver | undefined;
    const name = `vhndl-toggle-${process.pid}`;
    try {
      driver = await VirtioNetDriver.create({ device: nic.device, queueSize: 256 });
      const { sent, received, captured, marked } = await toggledRounds(nic, driver, MAC, name, 100, 20000);
      expect(captured).toEqual(sent);
      expect(received).toEqual(sent);
      expect(marked).toBeGreaterThan(0);
    } finally {
      await driver?.close();
      await nic.close();
    }
    expect(fdCount.fds()).toBe(fds);
    expect(fdCount.memfdMappings(name)).toBe(0);
  }, 600_000);
});
