import type { NetDeviceConfig } from '@vnic/core';
import { VIRTIO_NET_OK } from '@vnic/core/virtio_net';
import { VirtioNetDriver } from '@vnic/driver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testNetConfig } from '@vnic/core/testing';
import { hostTapPeer } from '@vnic/sys/testing';
import { frameSeq, isTestFrame, OUTSIDE_MAC, testFrame } from '../../conformance/frames.ts';
import { TapNetns } from '../../fixtures/TapNetns.ts';

// The receive filters (RX mode, MAC table, VLAN filter) and the link state, applied by the IO
// threads on frames a real kernel hands over: frames are injected with an AF_PACKET socket on the
// tap inside a namespace, and each check sends the frame under test followed by a marker frame that
// must pass, so "dropped" is proven by the marker arriving first (no timeouts needed).

const MAC = Uint8Array.of(0x52, 0x54, 0x00, 0x7e, 0x03, 0x02);
const OTHER = Uint8Array.of(0x52, 0x54, 0x00, 0x7e, 0x03, 0x99);
const NEW_MAC = Uint8Array.of(0x52, 0x54, 0x00, 0x7e, 0x03, 0x55);
const BROADCAST = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
const MULTICAST = Uint8Array.of(0x01, 0x00, 0x5e, 0x00, 0x00, 0x42);

function config(): NetDeviceConfig {
  return testNetConfig({ id: 'vnt-filter', backend: 'virtio-net', mac: MAC });
}

/** An 802.1Q-tagged test frame (TPID 0x8100, VLAN id `vid`). */
function tagged(dst: Uint8Array, seq: number, vid: number): Uint8Array {
  const inner = testFrame(dst, OUTSIDE_MAC, seq, 100);
  const f = new Uint8Array(inner.length + 4);
  f.set(inner.subarray(0, 12), 0);
  f[12] = 0x81;
  f[13] = 0x00;
  f[14] = (vid >>> 8) & 0x0f;
  f[15] = vid & 0xff;
  f.set(inner.subarray(12), 16);
  return f;
}

const peer = hostTapPeer();

describe.skipIf(peer.skip)('virtio-net backend: receive filters and link state on a host kernel tap', () => {
  let nic: TapNetns;
  let driver: VirtioNetDriver;
  let seq = 1;

  beforeAll(async () => {
    if (peer.reason !== undefined) throw new Error(`host kernel tap peer missing: ${peer.reason}`);
    nic = TapNetns.create(config(), { packetSocket: true });
    driver = await VirtioNetDriver.create({ device: nic.device });
  });

  afterAll(async () => {
    await driver?.close();
    await nic?.close();
  });

  /**
   * Injects `frame` then a marker to our MAC; returns whether `frame` was delivered (it arrives
   * before the marker) and checks the `filtered` counter moved by the expected amount.
   */
  async function delivered(frame: Uint8Array, marker = MAC): Promise<boolean> {
    const before = nic.device.stats()[0]!.filtered;
    const m = seq++;
    nic.send(frame);
    nic.send(testFrame(marker, OUTSIDE_MAC, m, 64));
    const first = await driver.receive(0, 2000);
    expect(first).toBeDefined();
    if (first !== undefined && frameSeq(first.frame.subarray(first.frame[12] === 0x81 ? 4 : 0)) === m) {
      expect(nic.device.stats()[0]!.filtered - before).toBe(1);
      return false;
    }
    expect([...first!.frame]).toEqual([...frame]);
    const second = await driver.receive(0, 2000);
    expect(second && frameSeq(second.frame)).toBe(m);
    expect(nic.device.stats()[0]!.filtered).toBe(before);
    return true;
  }

  const to = (dst: Uint8Array): Uint8Array => testFrame(dst, OUTSIDE_MAC, seq++, 80);

  it('starts promiscuous (as QEMU): every destination is delivered', async () => {
    expect(await delivered(to(OTHER))).toBe(true);
    expect(await delivered(to(MULTICAST))).toBe(true);
  });

  it('without promisc: own MAC and broadcast pass, other unicast and unlisted multicast are filtered', async () => {
    expect(await driver.ctrl({ kind: 'rx-mode', mode: 'promisc', on: false })).toBe(VIRTIO_NET_OK);
    expect(await delivered(to(MAC))).toBe(true);
    expect(await delivered(to(BROADCAST))).toBe(true);
    expect(await delivered(to(OTHER))).toBe(false);
    expect(await delivered(to(MULTICAST))).toBe(false);
    expect(await driver.ctrl({ kind: 'rx-mode', mode: 'allmulti', on: true })).toBe(VIRTIO_NET_OK);
    expect(await delivered(to(MULTICAST))).toBe(true);
    expect(await driver.ctrl({ kind: 'rx-mode', mode: 'allmulti', on: false })).toBe(VIRTIO_NET_OK);
  });

  it('nobcast drops broadcast; the MAC table lets listed addresses through', async () => {
    expect(await driver.ctrl({ kind: 'rx-mode', mode: 'nobcast', on: true })).toBe(VIRTIO_NET_OK);
    expect(await delivered(to(BROADCAST))).toBe(false);
    expect(await driver.ctrl({ kind: 'rx-mode', mode: 'nobcast', on: false })).toBe(VIRTIO_NET_OK);
    expect(await delivered(to(BROADCAST))).toBe(true);
    expect(await driver.ctrl({ kind: 'mac-table-set', unicast: [OTHER], multicast: [MULTICAST] })).toBe(VIRTIO_NET_OK);
    expect(await delivered(to(OTHER))).toBe(true);
    expect(await delivered(to(MULTICAST))).toBe(true);
    expect(await driver.ctrl({ kind: 'mac-table-set', unicast: [], multicast: [] })).toBe(VIRTIO_NET_OK);
    expect(await delivered(to(OTHER))).toBe(false);
  });

  it('VLAN-tagged frames are dropped until their VLAN id is added', async () => {
    expect(await delivered(tagged(MAC, seq++, 100))).toBe(false);
    expect(await driver.ctrl({ kind: 'vlan-add', vid: 100 })).toBe(VIRTIO_NET_OK);
    expect(await delivered(tagged(MAC, seq++, 100))).toBe(true);
    expect(await delivered(tagged(MAC, seq++, 200))).toBe(false);
    expect(await driver.ctrl({ kind: 'vlan-del', vid: 100 })).toBe(VIRTIO_NET_OK);
    expect(await delivered(tagged(MAC, seq++, 100))).toBe(false);
  });

  it('MAC_ADDR_SET moves the unicast filter to the new address', async () => {
    expect(await driver.ctrl({ kind: 'mac-addr-set', mac: NEW_MAC })).toBe(VIRTIO_NET_OK);
    expect(await delivered(to(NEW_MAC), NEW_MAC)).toBe(true);
    expect(await delivered(to(MAC), NEW_MAC)).toBe(false);
    expect(await driver.ctrl({ kind: 'mac-addr-set', mac: MAC })).toBe(VIRTIO_NET_OK);
  });

  it('promisc lets everything through again', async () => {
    expect(await driver.ctrl({ kind: 'rx-mode', mode: 'promisc', on: true })).toBe(VIRTIO_NET_OK);
    expect(await delivered(to(OTHER))).toBe(true);
    expect(await delivered(tagged(OTHER, seq++, 300))).toBe(true);
  });

  it('link down stops delivery both ways (counted as drops); link up restores it', async () => {
    const before = nic.device.stats();
    nic.device.setLinkUp(false);
    nic.send(to(MAC));
    nic.send(to(MAC));
    expect(driver.send(testFrame(OUTSIDE_MAC, MAC, seq++, 90))).toBe(true);
    await driver.flushTx();
    await expect(nic.capture(1, isTestFrame, 300)).rejects.toThrow(/0\/1 frames/);
    expect(await driver.receive(0, 300)).toBeUndefined();
    const down = nic.device.stats();
    expect(down[0]!.drops - before[0]!.drops).toBe(2);
    expect(down[1]!.drops - before[1]!.drops).toBe(1);
    expect(down[0]!.packets).toBe(before[0]!.packets);

    nic.device.setLinkUp(true);
    const back = seq++;
    expect(driver.send(testFrame(OUTSIDE_MAC, MAC, back, 90))).toBe(true);
    expect((await nic.capture(1, isTestFrame)).map(frameSeq)).toEqual([back]);
    const inbound = seq++;
    nic.send(testFrame(MAC, OUTSIDE_MAC, inbound, 90));
    const rx = await driver.receive(0, 2000);
    expect(rx && frameSeq(rx.frame)).toBe(inbound);
  });
});
