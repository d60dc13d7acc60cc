import { DEFAULT_NET_OFFLOADS, VnicError, type NetDeviceConfig } from '@vnic/core';
import { netConfig } from '../../conformance/netConfig.ts';
import { VIRTIO_NET_OK, VIRTIO_NET_S_ANNOUNCE } from '@vnic/core/virtio_net';
import { fdCount, hostTapPeer } from '@vnic/sys/testing';
import { VirtioNetTapDevice } from '@vnic/virtio-net';
import { describe, expect, it } from 'vitest';
import { OUTSIDE_MAC, testFrame } from '../../conformance/frames.ts';
import { TapNetns } from '../../fixtures/TapNetns.ts';
import { HandOverVmm } from './HandOverVmm.ts';
import { guestToTap, tapToGuest } from './tapTraffic.ts';

// Save, close, restore: a guest (the TS driver) keeps its driver, rings and buffers while its NIC
// moves from one virtio-net device on tap A (namespace A) to a new device on tap B (another name,
// another namespace). Traffic both ways is checked frame by frame (sequence and payload), the ring
// positions the new device resumes from are the guest's own, the MAC filter and RX mode the guest
// set keep working, counters continue, and the guest is asked to announce itself.

const MAC = Uint8Array.of(0x52, 0x54, 0x00, 0x5a, 0x7e, 0x01);
const EXTRA = Uint8Array.of(0x02, 0x00, 0x00, 0x5a, 0x7e, 0x42);
const STRANGER = Uint8Array.of(0x02, 0x00, 0x00, 0x5a, 0x7e, 0x99);

function config(over: Partial<NetDeviceConfig> = {}): NetDeviceConfig {
  return netConfig('virtio-net', { mac: MAC, queuePairs: 2, queueSize: 64, ...over });
}

const peer = hostTapPeer();

describe.skipIf(peer.skip)('device state: a virtio-net NIC saved and restored onto another tap (TS driver as the guest)', () => {
  it('traffic resumes with payloads checked, rings continue, filters, RX mode and counters survive, the guest announces', async () => {
    if (peer.reason !== undefined) throw new Error(`host kernel tap peer missing: ${peer.reason}`);
    const fdsBefore = fdCount.fds();
    const a = TapNetns.create(config(), { packetSocket: true });
    let b: TapNetns | undefined;
    let vmm: HandOverVmm | undefined;
    try {
      vmm = await HandOverVmm.start(a.device, { queuePairs: 2, queueSize: 64 });
      const d = vmm.driver;
      expect(await d.ctrl({ kind: 'rx-mode', mode: 'promisc', on: false })).toBe(VIRTIO_NET_OK);
      expect(await d.ctrl({ kind: 'mac-table-set', unicast: [EXTRA], multicast: [] })).toBe(VIRTIO_NET_OK);
      await guestToTap(a, d, MAC, 1, 21);
      await tapToGuest(a, d, MAC, 1, 11);
      await tapToGuest(a, d, EXTRA, 11, 16);
      const before = a.device.stats();

      b = TapNetns.create(config(), { packetSocket: true });
      expect(b.tap).not.toBe(a.tap);
      const state = await vmm.handOver(b.device);
      expect(a.device.quiesced).toBe(true);
      await a.close();

      // Where the new device resumes is where the guest is: TX all consumed, RX used = what the guest took.
      const q = (i: number): { nextAvail: number; nextUsed: number } => state.queues.find((s) => s.index === i)!;
      expect(q(1).nextAvail).toBe(d.queue(1).nextAvail);
      expect(q(1).nextUsed).toBe(d.queue(1).nextAvail);
      expect(q(0).nextUsed).toBe(d.queue(0).lastUsed);
      expect(q(4).nextAvail).toBe(d.queue(4).nextAvail); // control queue: the commands so far
      expect(b.device.activated).toBe(true);
      expect(b.device.ctrlState.activePairs).toBe(2);

      // The guest is asked to announce itself (GUEST_ANNOUNCE negotiated) and acks it.
      expect(d.readConfig().status & VIRTIO_NET_S_ANNOUNCE).toBe(VIRTIO_NET_S_ANNOUNCE);
      expect(await d.ctrl({ kind: 'announce-ack' })).toBe(VIRTIO_NET_OK);
      expect(d.readConfig().status & VIRTIO_NET_S_ANNOUNCE).toBe(0);

      // Traffic on tap B, sequence numbers continuing.
      await guestToTap(b, d, MAC, 21, 41);
      await tapToGuest(b, d, MAC, 16, 26);
      await tapToGuest(b, d, EXTRA, 26, 31);
      // The filter survived: a frame to a MAC the guest did not ask for is dropped and counted.
      const filtered = b.device.stats()[0]!.filtered + b.device.stats()[2]!.filtered;
      b.send(testFrame(STRANGER, OUTSIDE_MAC, 999, 80));
      await tapToGuest(b, d, MAC, 31, 32); // the marker arrives, the stranger's frame did not
      expect(b.device.stats()[0]!.filtered + b.device.stats()[2]!.filtered).toBe(filtered + 1);

      // Counters continue from the saved device's.
      const after = b.device.stats();
      expect(after[1]!.packets).toBe(before[1]!.packets + 20);
      expect(after[0]!.packets + after[2]!.packets).toBe(before[0]!.packets + before[2]!.packets + 16);
      expect(after[4]!.packets).toBe(before[4]!.packets + 1); // the announce ack
    } finally {
      await vmm?.close();
      await b?.close();
      await a.close();
    }
    expect(fdCount.fds()).toBe(fdsBefore);
  });

  it('each refused state gives its error and leaves the new device as built (no fd added, nothing left after close)', async () => {
    const fdsBefore = fdCount.fds();
    const a = TapNetns.create(config(), { packetSocket: true });
    const extra: VirtioNetTapDevice[] = [];
    const open = (over: Partial<NetDeviceConfig>): VirtioNetTapDevice => {
      const dev = VirtioNetTapDevice.open(config(over));
      extra.push(dev);
      return dev;
    };
    let vmm: HandOverVmm | undefined;
    try {
      vmm = await HandOverVmm.start(a.device, { queuePairs: 2, queueSize: 64 });
      const refused = async (next: VirtioNetTapDevice, edit?: (s: object) => object): Promise<string> => {
        await vmm!.device.quiesce(); // what saveState() does first: its threads stop before the count
        const fds = fdCount.fds(); // the new device as built: the refused attempt adds nothing to it
        const e: unknown = await vmm!.handOver(next, edit).then(
          () => undefined,
          (x: unknown) => x,
        );
        expect(VnicError.is(e) && e.kind).toBe('state-refused');
        expect(next.activated).toBe(false);
        expect(next.ackedFeatures).toBe(0n);
        expect(fdCount.fds()).toBe(fds);
        return (e as Error).message;
      };
      expect(await refused(open({ queuePairs: 1 }))).toContain(
        'config.maxVirtqueuePairs: the saved device had 2 queue pair(s), this virtio-net device offers 1',
      );
      expect(await refused(open({ offloads: { ...DEFAULT_NET_OFFLOADS, guestTso4: false } }))).toMatch(
        /features\.acked: the guest negotiated .*VIRTIO_NET_F_GUEST_TSO4/,
      );
      expect(await refused(open({}), (s) => ({ ...s, version: 7 }))).toContain('state.version is 7');
      expect(await refused(open({ mtu: 9000 }))).toContain('config.mtu');
      // A state that passes the checks but whose rings the new memory map does not hold fails when
      // the data plane would start: the attempt is undone (nothing started, no fd added).
      const late = open({});
      const fds = fdCount.fds();
      const far = 0x7f00_0000_0000;
      const e: unknown = await vmm
        .handOver(late, (s) => ({ ...s, queues: s.queues.map((q) => (q.index === 0 ? { ...q, descTable: far } : q)) }))
        .then(
          () => undefined,
          (x: unknown) => x,
        );
      expect(VnicError.is(e) && e.kind).toBe('invalid-argument');
      expect((e as Error).message).toMatch(/queue 0/);
      expect(late.activated).toBe(false);
      expect(late.ackedFeatures).toBe(0n);
      expect(fdCount.fds()).toBe(fds);
      // The guest is still on the first device (quiesced by the attempts); it resumes and carries traffic.
      await vmm.device.resume();
      await guestToTap(a, vmm.driver, MAC, 1, 6);
    } finally {
      await vmm?.close();
      for (const dev of extra) await dev.close();
      await a.close();
    }
    expect(fdCount.fds()).toBe(fdsBefore);
  });
});
