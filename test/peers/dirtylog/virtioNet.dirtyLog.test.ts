import { DirtyLog, VnicError } from '@vnic/core';
import { VirtioNetDriver } from '@vnic/driver';
import { MemfdDirtyLog } from '@vnic/sys';
import { fdCount, hostTapPeer } from '@vnic/sys/testing';
import { describe, expect, it } from 'vitest';
import { frameSeq, isTestFrame, OUTSIDE_MAC, testFrame } from '../../conformance/frames.ts';
import { netConfig } from '../../conformance/netConfig.ts';
import { TapNetns } from '../../fixtures/TapNetns.ts';
import { loggedRound, memoryEnd, toggledRounds } from './dirtyLogTraffic.ts';

// Dirty logging of the in-process backend on a real tap in a namespace, the TS driver as the
// guest: every page of guest memory the IO threads change while logging is on is in the log (guest
// memory compared with a copy taken when the round began), every page the device is known to have
// written (the RX buffers it filled, both used rings) is marked, nothing is marked once logging is
// off, and switching logging on and off 100 times while traffic runs loses no frame and leaks no fd
// and no mapping.

const MAC = Uint8Array.of(0x52, 0x54, 0x00, 0xd1, 0x70, 0x01);
const peer = hostTapPeer();

describe.skipIf(peer.skip)('virtio-net backend: dirty logging (real tap, TS driver as the guest)', () => {
  it('marks every page the IO threads write, RX buffers and used rings, both ways; nothing once stopped', async () => {
    if (peer.reason !== undefined) throw new Error(`host kernel tap peer missing: ${peer.reason}`);
    const fds = fdCount.fds();
    const nic = TapNetns.create(netConfig('virtio-net', { id: 'vndl0', mac: MAC, queueSize: 256 }), { packetSocket: true });
    let driver: VirtioNetDriver | undefined;
    let mlog: MemfdDirtyLog | undefined;
    try {
      driver = await VirtioNetDriver.create({ device: nic.device, queueSize: 256 });
      mlog = MemfdDirtyLog.create(memoryEnd(driver), 'vndl-log');
      await nic.device.startDirtyLog(mlog.log);
      expect(nic.device.dirtyLog).toBe(mlog.log);
      const first = await loggedRound(nic, driver, mlog.log, MAC, 1000, 64);
      expect(first.expectedPages).toBeGreaterThan(2);
      // A SharedArrayBuffer log works the same (no host address: the IO threads get the buffer itself).
      await nic.device.stopDirtyLog();
      const shared = DirtyLog.allocate(memoryEnd(driver));
      await nic.device.startDirtyLog(shared);
      await loggedRound(nic, driver, shared, MAC, 2000, 64);
      await nic.device.stopDirtyLog();
      expect(nic.device.dirtyLog).toBeUndefined();

      // Logging off: traffic marks nothing.
      mlog.log.clear();
      shared.clear();
      for (let s = 0; s < 20; s++) expect(driver.send(testFrame(OUTSIDE_MAC, MAC, 3000 + s, 80))).toBe(true);
      await driver.flushTx();
      expect((await nic.capture(20, isTestFrame, 10_000)).map(frameSeq)).toEqual(Array.from({ length: 20 }, (_, i) => 3000 + i));
      for (let s = 0; s < 20; s++) nic.send(testFrame(MAC, OUTSIDE_MAC, 3000 + s, 80));
      for (let s = 0; s < 20; s++) expect(await driver.receive(0, 5000)).toBeDefined();
      expect(mlog.log.countDirty() + shared.countDirty()).toBe(0);

      // A log that does not cover guest memory is refused, naming both ends.
      const small = new DirtyLog({ bytes: new Uint8Array(new SharedArrayBuffer(8)) });
      const err: unknown = await nic.device.startDirtyLog(small).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(VnicError.is(err) && err.kind).toBe('invalid-argument');
      expect((err as Error).message).toMatch(/covers guest-physical \[0, 0x40000\) but guest memory ends at 0x/);
      // A log the IO threads cannot reach (a plain ArrayBuffer, no host address) is refused too.
      const plain = new DirtyLog({ bytes: new Uint8Array(mlog.size) });
      await expect(nic.device.startDirtyLog(plain)).rejects.toThrow(/SharedArrayBuffer view or a mapping with a hostAddr/);
    } finally {
      await driver?.close();
      await nic.close();
      mlog?.close();
    }
    expect(fdCount.fds()).toBe(fds);
  });

  it('logging switched on and off 100 times under traffic both ways: no frame lost, no fd or mapping leaked', async () => {
    if (peer.reason !== undefined) throw new Error(`host kernel tap peer missing: ${peer.reason}`);
    const fds = fdCount.fds();
    const nic = TapNetns.create(netConfig('virtio-net', { id: 'vndl1', mac: MAC, queueSize: 256 }), { packetSocket: true });
    let driver: VirtioNetDriver | undefined;
    const name = `vndl-toggle-${process.pid}`;
    try {
      driver = await VirtioNetDriver.create({ device: nic.device, queueSize: 256 });
      const { sent, received, captured, marked } = await toggledRounds(nic, driver, MAC, name, 100, 10000);
      expect(captured).toEqual(sent);
      expect(received).toEqual(sent);
      expect(marked).toBeGreaterThan(0);
      const s = nic.device.stats();
      expect(s[0]!.drops + s[1]!.drops).toBe(0);
    } finally {
      await driver?.close();
      await nic.close();
    }
    expect(fdCount.fds()).toBe(fds);
    expect(fdCount.memfdMappings(name)).toBe(0);
  });
});
