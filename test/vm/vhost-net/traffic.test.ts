import { type ActivateContext, type NetDeviceConfig, type QueueState } from '@vnic/core';
import { driverPort, formatMac, GuestNetStack, VirtioNetDriver } from '@vnic/driver';
import { VhostNetDevice } from '@vnic/vhost-net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fdCount } from '@vnic/sys/testing';
import { frameSeq, isTestFrame, OUTSIDE_MAC, testFrame } from '../../conformance/frames.ts';
import { netConfig } from '../../conformance/netConfig.ts';
import { pattern } from '../../fixtures/offloadFrames.ts';
import { nsUdpServer } from '../../fixtures/nsUdpServer.ts';
import { pingGuestFromNetns } from '../../fixtures/pingGuestFromNetns.ts';
import { sendUdpFromNetns } from '../../fixtures/sendUdpFromNetns.ts';
import { TapNetns } from '../../fixtures/TapNetns.ts';
import { vhostNetPeer } from './vhostNetPeer.ts';

// The kernel's vhost-net moving real traffic (inside the test VM): the NIC's tap is addressed in a
// namespace (10.210.1.1/24), the guest is @vnic/driver with the GuestNetStack (10.210.1.2). Node
// inside the VM is ~15-20x slower than on the host: sizes and counts are small, timeouts generous.

const TAP_IP = '10.210.1.1';
const GUEST_IP = '10.210.1.2';
const MAC = Uint8Array.of(0x52, 0x54, 0x00, 0x7e, 0x40, 0x02);
const reason = vhostNetPeer();

function config(): NetDeviceConfig {
  return netConfig('vhost-net', { id: 'vhn-traffic', mac: MAC, mtu: 1500 });
}

/** Opens a vhost-net device whose last ActivateContext stays readable (what a VMM keeps anyway). */
function openRecording(c: NetDeviceConfig): VhostNetDevice & { lastCtx?: ActivateContext } {
  const d = VhostNetDevice.open(c) as VhostNetDevice & { lastCtx?: ActivateContext };
  const activate = d.activate.bind(d);
  d.activate = async (ctx) => {
    d.lastCtx = ctx;
    return activate(ctx);
  };
  return d;
}

describe('vhost-net backend: IPv4 traffic through the kernel vhost_net and a tap in a namespace', () => {
  let nic: TapNetns<VhostNetDevice & { lastCtx?: ActivateContext }>;
  let driver: VirtioNetDriver;
  let stack: GuestNetStack;

  beforeAll(async () => {
    if (reason !== undefined) throw new Error(`kernel vhost_net peer missing: ${reason}`);
    nic = TapNetns.create(config(), { address: `${TAP_IP}/24`, packetSocket: true, open: openRecording });
    driver = await VirtioNetDriver.create({ device: nic.device });
    stack = new GuestNetStack(driverPort(driver), { mac: MAC, ip: GUEST_IP });
  }, 120_000);

  afterAll(async () => {
    await driver?.close();
    await nic?.close();
  });

  it('ARP both ways, then the kernel pings the guest and the guest pings the kernel', async () => {
    const tapMac = await stack.resolve(TAP_IP, 10_000);
    expect(formatMac(tapMac)).toBe(nic.ns.exec('cat', `/sys/class/net/${nic.tap}/address`).trim());
    nic.ns.ip('neigh', 'flush', 'dev', nic.tap);
    expect(await pingGuestFromNetns(nic.ns.name, GUEST_IP, stack, { intervalS: 0.3, waitS: 5, timeoutMs: 30_000 })).toMatch(
      /3 packets transmitted, 3 received/,
    );
    expect(nic.ns.ip('neigh', 'show', GUEST_IP, 'dev', nic.tap)).toContain(formatMac(MAC));
    // ping resolves only on a reply with our id, seq and data (else it throws its timeout). The RTT
    // it resolves with can read 0 in the TCG VM (a clock tick coarser than the round trip).
    for (let seq = 1; seq <= 3; seq++) await expect(stack.ping(TAP_IP, seq, 56 + seq * 300, 10_000)).resolves.toEqual(expect.any(Number));
  }, 90_000);

  it('UDP from the namespace reaches the guest, payloads verified', async () => {
    stack.listenUdp(7100);
    nic.ns.ip('neigh', 'replace', GUEST_IP, 'lladdr', formatMac(MAC), 'dev', nic.tap, 'nud', 'permanent');
    const sent = [1, 100, 1472].map((n, i) => pattern(n, i));
    const payloads = sent.map((p) => Buffer.from(p).toString('hex'));
    await sendUdpFromNetns(nic.ns.name, GUEST_IP, 7100, sent, 60_000);
    const got: string[] = [];
    for (let i = 0; i < payloads.length; i++) {
      const d = await stack.receiveUdp(7100, 10_000);
      expect(d, `datagram ${i}`).toBeDefined();
      expect(d!.srcIp).toBe(TAP_IP);
      got.push(Buffer.from(d!.payload).toString('hex'));
    }
    expect(got).toEqual(payloads);
  }, 90_000);

  it('UDP from the guest reaches a socket in the namespace, payloads verified', async () => {
    const payloads = [1, 64, 1472].map((n, i) => pattern(n, 50 + i));
    const server = nsUdpServer(nic.ns.name, TAP_IP, 7101, payloads.length, 60_000);
    try {
      await server.ready;
      for (const p of payloads) expect(await stack.sendUdp(TAP_IP, 7101, 40101, p)).toBe(true);
      expect(await server.received).toEqual(payloads.map((p) => Buffer.from(p).toString('hex')));
    } finally {
      server.stop();
    }
  }, 90_000);

  it('RX mode and MAC table reach the kernel (TUNSETTXFILTER): unwanted unicast is dropped before vhost, wanted frames pass', async () => {
    let seq = 5000;
    /** Injects a frame to `dst`, then a marker to our MAC; true when the frame arrived (before the marker). */
    const delivered = async (dst: Uint8Array): Promise<boolean> => {
      const f = seq++;
      const m = seq++;
      nic.send(testFrame(dst, OUTSIDE_MAC, f, 80));
      nic.send(testFrame(MAC, OUTSIDE_MAC, m, 64));
      const seen: number[] = [];
      while (!seen.includes(m)) {
        const r = await driver.receive(0, 10_000);
        expect(r, `marker ${m}`).toBeDefined();
        if (isTestFrame(r!.frame)) seen.push(frameSeq(r!.frame));
      }
      return seen.includes(f);
    };
    const OTHER = Uint8Array.of(0x52, 0x54, 0x00, 0x7e, 0x40, 0x99);
    const BCAST = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
    const MCAST = Uint8Array.of(0x01, 0x00, 0x5e, 0x00, 0x00, 0x42);
    expect(await delivered(OTHER)).toBe(true); // promiscuous after reset (as QEMU)
    expect(await driver.ctrl({ kind: 'rx-mode', mode: 'promisc', on: false }, 10_000)).toBe(0);
    expect(await delivered(OTHER)).toBe(false);
    expect(await delivered(BCAST)).toBe(true);
    expect(await delivered(MCAST)).toBe(false);
    expect(await driver.ctrl({ kind: 'mac-table-set', unicast: [OTHER], multicast: [MCAST] }, 10_000)).toBe(0);
    expect(await delivered(OTHER)).toBe(true);
    expect(await delivered(MCAST)).toBe(true);
    expect(await driver.ctrl({ kind: 'rx-mode', mode: 'nobcast', on: true }, 10_000)).toBe(0);
    expect(await delivered(BCAST)).toBe(false);
    expect(await driver.ctrl({ kind: 'mac-table-set', unicast: [], multicast: [] }, 10_000)).toBe(0);
    expect(await driver.ctrl({ kind: 'rx-mode', mode: 'nobcast', on: false }, 10_000)).toBe(0);
    expect(await driver.ctrl({ kind: 'rx-mode', mode: 'promisc', on: true }, 10_000)).toBe(0);
    expect(await delivered(OTHER)).toBe(true);
  }, 90_000);

  it('link down stops both directions (frames meanwhile are dropped, not queued); link up brings traffic back', async () => {
    nic.drain();
    while (driver.tryReceive(0) !== undefined);
    nic.device.setLinkUp(false);
    expect(nic.device.attachedPairs).toBe(0);
    nic.send(testFrame(MAC, OUTSIDE_MAC, 6000, 100));
    expect(driver.send(testFrame(OUTSIDE_MAC, MAC, 6001, 100))).toBe(true);
    const during = await driver.receive(0, 1500);
    expect(during === undefined || !isTestFrame(during.frame)).toBe(true);
    await expect(nic.capture(1, isTestFrame, 1500)).rejects.toThrow(/0\/1 frames/);
    nic.device.setLinkUp(true);
    expect(nic.device.attachedPairs).toBe(1);
    nic.send(testFrame(MAC, OUTSIDE_MAC, 6002, 100));
    // The guest's frame posted while down leaves now; the frame sent to it while down is gone.
    expect((await nic.capture(1, isTestFrame, 10_000)).map(frameSeq)).toEqual([6001]);
    let r = await driver.receive(0, 10_000);
    while (r !== undefined && !isTestFrame(r.frame)) r = await driver.receive(0, 10_000);
    expect(r && frameSeq(r.frame)).toBe(6002);
    await driver.flushTx(0, 10_000);
  }, 60_000);

  it('reset returns the ring positions and a re-activation with them resumes there, traffic flowing', async () => {
    const device = nic.device;
    const before = driver.queue(1).nextAvail;
    const sent = Array.from({ length: 5 }, (_, i) => testFrame(OUTSIDE_MAC, MAC, 3000 + i, 200));
    nic.drain();
    expect(driver.sendBatch(sent)).toBe(5);
    expect((await nic.capture(5, isTestFrame, 10_000)).map(frameSeq)).toEqual(sent.map(frameSeq));
    await driver.flushTx(0, 10_000);
    for (let i = 0; i < 3; i++) nic.send(testFrame(MAC, OUTSIDE_MAC, 3100 + i, 200));
    expect((await driver.receiveMany(3, 0, 10_000)).map((r) => frameSeq(r.frame))).toEqual([3100, 3101, 3102]);

    const ctx = device.lastCtx!;
    const rx = driver.queue(0);
    const tx = driver.queue(1);
    // The kernel's positions, read back with VHOST_GET_VRING_BASE, equal what the driver published.
    const states: QueueState[] = await device.reset();
    expect(tx.nextAvail).toBe(before + 5);
    expect(states[1]).toEqual({ nextAvail: tx.nextAvail, nextUsed: tx.nextAvail });
    expect(states[0]!.nextUsed).toBe(rx.lastUsed);
    expect(states[0]!.nextAvail).toBe(rx.lastUsed); // every buffer the kernel took, it used
    expect(states[1]!.nextAvail).toBeGreaterThan(0);

    // Behind the driver's back (it keeps its rings): negotiate again and resume from the states.
    expect(device.setDriverFeatures(ctx.features)).toBe(true);
    await device.activate({ ...ctx, queues: ctx.queues.map((q, i) => ({ ...q, state: states[i]! })) });
    nic.drain();
    const more = Array.from({ length: 3 }, (_, i) => testFrame(OUTSIDE_MAC, MAC, 3200 + i, 300));
    expect(driver.sendBatch(more)).toBe(3);
    // Exactly the new frames: a ring restarted at 0 would send the old chains again first.
    expect((await nic.capture(3, isTestFrame, 10_000)).map(frameSeq)).toEqual([3200, 3201, 3202]);
    await expect(nic.capture(1, isTestFrame, 500)).rejects.toThrow(/0\/1 frames/);
    nic.send(testFrame(MAC, OUTSIDE_MAC, 3300, 300));
    expect(frameSeq((await driver.receive(0, 10_000))!.frame)).toBe(3300);
  }, 90_000);

  it('200 activate/reset cycles leave no fd behind, and traffic flows after them', async () => {
    const device = nic.device;
    const ctx = device.lastCtx!;
    await driver.flushTx(0, 10_000);
    let states: QueueState[] = await device.reset();
    const fds = fdCount.fds();
    for (let i = 0; i < 200; i++) {
      expect(device.setDriverFeatures(ctx.features)).toBe(true);
      await device.activate({ ...ctx, queues: ctx.queues.map((q, k) => ({ ...q, state: states[k]! })) });
      states = await device.reset();
    }
    expect(fdCount.fds()).toBe(fds);
    expect(device.setDriverFeatures(ctx.features)).toBe(true);
    await device.activate({ ...ctx, queues: ctx.queues.map((q, k) => ({ ...q, state: states[k]! })) });
    nic.drain();
    const f = testFrame(OUTSIDE_MAC, MAC, 4000, 128);
    expect(driver.send(f)).toBe(true);
    expect((await nic.capture(1, isTestFrame, 10_000)).map(frameSeq)).toEqual([4000]);
  }, 240_000);
});
