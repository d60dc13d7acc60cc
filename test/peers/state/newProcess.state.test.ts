import { VIRTIO_NET_OK } from '@vnic/core/virtio_net';
import type { NetDeviceConfig, NetDeviceState, QueueStats } from '@vnic/core';
import type { VirtioNetDriver } from '@vnic/driver';
import { openNetTap, type Tap } from '@vnic/sys';
import { fdCount, hostTapPeer, uniqueName } from '@vnic/sys/testing';
import { VirtioNetTapDevice } from '@vnic/virtio-net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OUTSIDE_MAC, testFrame } from '../../conformance/frames.ts';
import { netConfig } from '../../conformance/netConfig.ts';
import { TapNetns } from '../../fixtures/TapNetns.ts';
import { DeviceProcess } from './DeviceProcess.ts';
import { HandOverVmm } from './HandOverVmm.ts';
import { guestToTap, tapToGuest } from './tapTraffic.ts';

// Restore into a new OS process: the guest (the TS driver, in this process) keeps its driver,
// rings and buffers in a memfd while its NIC's device side moves: an in-process device saves its
// state to a file; a child process that inherited the memfd, the kick/call eventfds and the tap
// queue fds restores it (createNetDevices({ restore }) from the VM config) and carries traffic;
// it saves to a file and exits; a NEW child restores from that file with the same fds; it saves
// and exits; the state comes back into this process. On every hop traffic both ways is checked
// frame by frame through the same real tap (in a namespace), ring positions continue where the
// guest is, the MAC filter and RX mode the guest set keep filtering, counters continue.

const ID = 'np0';
const MAC = Uint8Array.of(0x52, 0x54, 0x00, 0x5a, 0x7e, 0x51);
const EXTRA = Uint8Array.of(0x02, 0x00, 0x00, 0x5a, 0x7e, 0x52);
const STRANGER = Uint8Array.of(0x02, 0x00, 0x00, 0x5a, 0x7e, 0x99);
const PAIRS = 2;
const QUEUE_SIZE = 64;
/** rx0, tx0, rx1, tx1, ctrl. */
const QUEUES = [0, 1, 2, 3, 4];

function config(tapFds: readonly number[]): NetDeviceConfig {
  return netConfig('virtio-net', { id: ID, mac: MAC, queuePairs: PAIRS, queueSize: QUEUE_SIZE, options: { tapFds: [...tapFds] } });
}

/** The VM config a device process builds its NIC from (the same NIC, its tap as handed-in fds). */
function vmConfig(tapFds: readonly number[]): object {
  return { net: [{ id: ID, backend: 'virtio-net', mac: '52:54:00:5a:7e:51', queuePairs: PAIRS, queueSize: QUEUE_SIZE, 'virtio-net': { tapFds } }] };
}

const rxPackets = (s: readonly QueueStats[]): number => s[0]!.packets + s[2]!.packets;
const filtered = (s: readonly QueueStats[]): number => s[0]!.filtered + s[2]!.filtered;
const positions = (s: NetDeviceState): number[][] => s.queues.map((q) => [q.index, q.nextAvail, q.nextUsed]);

/**
 * Where the guest is: TX and control queues fully consumed (next avail = used = what it posted),
 * receive queues at what the device used (it pops a buffer only for a frame).
 */
const guestPositions = (d: VirtioNetDriver): number[][] =>
  QUEUES.map((i) => {
    const at = i % 2 === 0 && i < 4 ? d.queue(i).lastUsed : d.queue(i).nextAvail;
    return [i, at, at];
  });

const peer = hostTapPeer();

describe.skipIf(peer.skip)('device state: restore into a new OS process (the device side in a child, the TS driver guest here)', () => {
  it('traffic resumes in each new process with payloads checked, rings continue, MAC filter, RX mode and counters survive', { timeout: 180_000 }, async () => {
    if (peer.reason !== undefined) throw new Error(`host kernel tap peer missing: ${peer.reason}`);
    const fdsBefore = fdCount.fds();
    const dir = mkdtempSync(join(tmpdir(), 'vnic-newproc-'));
    // The VMM opens the tap (as libvirt does) and hands its queue fds to whichever process runs the device.
    const tap: Tap = openNetTap({ nic: ID, section: 'virtio-net', tap: uniqueName('vnp'), queues: PAIRS, nonBlocking: false }).tap;
    let nic: TapNetns | undefined;
    let vmm: HandOverVmm | undefined;
    let child: DeviceProcess | undefined;
    let back: VirtioNetTapDevice | undefined;
    try {
      nic = TapNetns.create(config(tap.fds), { packetSocket: true, options: { tapFds: [...tap.fds] } });
      vmm = await HandOverVmm.start(nic.device, { queuePairs: PAIRS, queueSize: QUEUE_SIZE });
      const d = vmm.driver;
      expect(await d.ctrl({ kind: 'rx-mode', mode: 'promisc', on: false })).toBe(VIRTIO_NET_OK);
      expect(await d.ctrl({ kind: 'mac-table-set', unicast: [EXTRA], multicast: [] })).toBe(VIRTIO_NET_OK);
      expect(await d.ctrl({ kind: 'vlan-add', vid: 7 })).toBe(VIRTIO_NET_OK);
      await guestToTap(nic, d, MAC, 1, 21);
      await tapToGuest(nic, d, MAC, 1, 11);
      await tapToGuest(nic, d, EXTRA, 11, 16);

      // Hop 0: the in-process device saves its state to a file and is closed.
      const saved0 = await nic.device.saveState();
      const stats0 = saved0.counters.queues;
      writeFileSync(join(dir, 'state0.json'), JSON.stringify(saved0));
      await nic.device.close();
      expect(positions(saved0)).toEqual(guestPositions(d));

      const memfd = vmm.guestMemory.layout.regions[0]!;
      const fds = [memfd.fd, ...QUEUES.flatMap((i) => [vmm!.queueFds(i).kickFd, vmm!.queueFds(i).callFd]), ...tap.fds];
      const startChild = (statePath: string): ReturnType<typeof DeviceProcess.start> =>
        DeviceProcess.start(fds, (fd) => ({
          id: ID,
          vmConfig: vmConfig(tap.fds.map(fd)),
          statePath,
          memory: [{ guestPhysAddr: memfd.guestPhysAddr, size: memfd.size, fd: fd(memfd.fd), fdOffset: memfd.fdOffset }],
          queues: QUEUES.map((index) => ({ index, kickFd: fd(vmm!.queueFds(index).kickFd), callFd: fd(vmm!.queueFds(index).callFd) })),
        }));

      // Hop 1: a child process restores from state0 and carries traffic.
      const first = await startChild(join(dir, 'state0.json'));
      child = first.proc;
      expect(first.ready.activated).toBe(true);
      expect(first.ready.ctrl.activePairs).toBe(PAIRS);
      expect(first.ready.ctrl.promisc).toBe(false);
      expect(first.ready.ctrl.unicast).toEqual([EXTRA]);
      expect(first.ready.stats).toEqual(stats0); // counters continue from the saved device's
      await guestToTap(nic, d, MAC, 21, 41);
      await tapToGuest(nic, d, MAC, 16, 26);
      await tapToGuest(nic, d, EXTRA, 26, 31);
      // The MAC filter and RX mode survived: a frame to a MAC the guest did not ask for is dropped and counted.
      nic.send(testFrame(STRANGER, OUTSIDE_MAC, 999, 80));
      await tapToGuest(nic, d, MAC, 31, 32); // the marker arrives, the stranger's frame did not
      const stats1 = (await child.stats()).stats;
      expect(filtered(stats1)).toBe(filtered(stats0) + 1);
      expect(stats1[1]!.packets).toBe(stats0[1]!.packets + 20);
      expect(rxPackets(stats1)).toBe(rxPackets(stats0) + 16);
      await child.save(join(dir, 'state1.json'));
      child = undefined;
      const saved1 = JSON.parse(readFileSync(join(dir, 'state1.json'), 'utf8')) as NetDeviceState;
      // Ring indices continued from hop 0 to where the guest is now.
      expect(positions(saved1)).toEqual(guestPositions(d));
      expect(saved1.queues[1]!.nextAvail).toBe(saved0.queues[1]!.nextAvail + 20);
      expect(saved1.ctrl).toEqual(saved0.ctrl);

      // Hop 2: a NEW child restores from the first child's file, with the same memfd, eventfds and tap.
      const second = await startChild(join(dir, 'state1.json'));
      child = second.proc;
      expect(second.ready.activated).toBe(true);
      expect(second.ready.stats).toEqual(saved1.counters.queues);
      await guestToTap(nic, d, MAC, 41, 61);
      await tapToGuest(nic, d, MAC, 32, 42);
      await tapToGuest(nic, d, EXTRA, 42, 47);
      nic.send(testFrame(STRANGER, OUTSIDE_MAC, 998, 80));
      await tapToGuest(nic, d, MAC, 47, 48);
      expect(await d.ctrl({ kind: 'vlan-del', vid: 7 })).toBe(VIRTIO_NET_OK); // the control queue is served there too
      const stats2 = (await child.stats()).stats;
      expect(filtered(stats2)).toBe(filtered(stats1) + 1);
      expect(stats2[1]!.packets).toBe(stats1[1]!.packets + 20);
      expect(rxPackets(stats2)).toBe(rxPackets(stats1) + 16);
      expect(stats2[4]!.packets).toBe(stats1[4]!.packets + 1);
      await child.save(join(dir, 'state2.json'));
      child = undefined;
      const state2 = readFileSync(join(dir, 'state2.json'), 'utf8');
      const saved2 = JSON.parse(state2) as NetDeviceState;
      expect(saved2.queues[1]!.nextAvail).toBe(saved1.queues[1]!.nextAvail + 20);
      expect(saved2.queues[4]!.nextAvail).toBe(saved1.queues[4]!.nextAvail + 1);

      // Back into this process: a device built on the same tap fds takes the second child's state.
      back = VirtioNetTapDevice.open(config(tap.fds));
      await vmm.restoreFrom(state2, back);
      expect(back.ctrlState.unicast).toEqual([EXTRA]);
      expect(back.ctrlState.promisc).toBe(false);
      await guestToTap(nic, d, MAC, 61, 71);
      await tapToGuest(nic, d, MAC, 48, 53);
      expect(back.stats()[1]!.packets).toBe(stats2[1]!.packets + 10);
      expect(rxPackets(back.stats())).toBe(rxPackets(stats2) + 5);
    } finally {
      await child?.kill();
      await vmm?.close();
      await back?.close();
      await nic?.close();
      tap.close();
      rmSync(dir, { recursive: true, force: true });
    }
    expect(fdCount.fds()).toBe(fdsBefore);
  });
});
