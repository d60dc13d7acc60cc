import type { NetDeviceConfig } from '@vnic/core';
import { buildEthernet, buildIpv4, buildUdp, driverPort, EtherType, GuestNetStack, IpProtocol, VirtioNetDriver } from '@vnic/driver';
import { VhostNetDevice } from '@vnic/vhost-net';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fdCount, uniqueName } from '@vnic/sys/testing';
import { netConfig } from '../../conformance/netConfig.ts';
import { nsUdpServer } from '../../fixtures/nsUdpServer.ts';
import { pattern } from '../../fixtures/offloadFrames.ts';
import { receiveUdpPerPair } from '../../fixtures/receiveUdpPerPair.ts';
import { TapNetns } from '../../fixtures/TapNetns.ts';
import { vhostNetPeer } from './vhostNetPeer.ts';

// Two queue pairs: two /dev/vhost-net fds (two kernel workers), two tap queues. The guest enables
// both with VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET (served by vnic, which attaches pair 1's vrings with
// VHOST_NET_SET_BACKEND); the tap spreads flows over its attached queues. Frames towards the guest
// are UDP datagrams of distinct flows written from the namespace side with an AF_PACKET socket.

const TAP_IP = '10.210.2.1';
const GUEST_IP = '10.210.2.2';
const MAC = Uint8Array.of(0x52, 0x54, 0x00, 0x7e, 0x40, 0x03);
const OUTSIDE = Uint8Array.of(0x02, 0, 0, 0, 0x40, 0x03);
const FLOWS = 32;
const reason = vhostNetPeer();

function config(): NetDeviceConfig {
  return netConfig('vhost-net', { id: 'vhn-mq', mac: MAC, queuePairs: 2 });
}

/** A UDP datagram to the guest from source port `srcPort` (one flow per port). */
function udpToGuest(srcPort: number, port: number, tag: string): Uint8Array {
  const udp = buildUdp({ srcPort, dstPort: port, payload: Buffer.from(tag) }, TAP_IP, GUEST_IP);
  return buildEthernet({
    dst: MAC,
    src: OUTSIDE,
    etherType: EtherType.IPV4,
    payload: buildIpv4({ src: TAP_IP, dst: GUEST_IP, protocol: IpProtocol.UDP, payload: udp }),
  });
}

describe('vhost-net backend: two queue pairs through the kernel', () => {
  let nic: TapNetns<VhostNetDevice>;
  let driver: VirtioNetDriver;

  beforeAll(async () => {
    if (reason !== undefined) throw new Error(`kernel vhost_net peer missing: ${reason}`);
    nic = TapNetns.create(config(), { address: `${TAP_IP}/24`, packetSocket: true, open: (c) => VhostNetDevice.open(c) });
    driver = await VirtioNetDriver.create({ device: nic.device, queuePairs: 2 });
  }, 120_000);

  afterAll(async () => {
    await driver?.close();
    await nic?.close();
  });

  /** Sends one datagram per flow and receives them on either pair; returns the tags per pair. */
  async function flood(port: number, tag: string): Promise<string[][]> {
    for (let i = 0; i < FLOWS; i++) nic.send(udpToGuest(20000 + i, port, `${tag}:${i}`));
    return receiveUdpPerPair(driver, port, FLOWS, 20_000);
  }

  it('attaches both pairs to the kernel after VQ_PAIRS_SET 2 and receives flows on both', async () => {
    expect(driver.queuePairs).toBe(2);
    expect(nic.device.ctrlState.activePairs).toBe(2);
    expect(nic.device.attachedPairs).toBe(2);
    const perPair = await flood(7200, 'a');
    expect(perPair[0]!.length + perPair[1]!.length).toBe(FLOWS);
    expect(perPair[0]!.length, 'flows on pair 0').toBeGreaterThan(0);
    expect(perPair[1]!.length, 'flows on pair 1').toBeGreaterThan(0);
    expect(new Set([...perPair[0]!, ...perPair[1]!]).size).toBe(FLOWS);
  }, 60_000);

  it('transmits on pair 1 (its own vhost fd and tap queue), payloads verified', async () => {
    const stack = new GuestNetStack(driverPort(driver, { queuePair: 1 }), { mac: MAC, ip: GUEST_IP });
    const payloads = [10, 500, 1400].map((n, i) => pattern(n, 70 + i));
    const server = nsUdpServer(nic.ns.name, TAP_IP, 7201, payloads.length, 60_000);
    try {
      await server.ready;
      const before = driver.queue(3).nextAvail;
      for (const p of payloads) expect(await stack.sendUdp(TAP_IP, 7201, 40200, p)).toBe(true);
      expect(await server.received).toEqual(payloads.map((p) => Buffer.from(p).toString('hex')));
      await driver.flushTx(1, 10_000);
      expect(driver.queue(3).nextAvail - before).toBeGreaterThanOrEqual(payloads.length);
      expect(driver.queue(3).lastUsed).toBe(driver.queue(3).nextAvail); // the kernel used every TX chain of pair 1
    } finally {
      server.stop();
    }
  }, 90_000);

  it('VQ_PAIRS_SET 1 detaches pair 1 (all flows on pair 0); 2 attaches it again', async () => {
    expect(await driver.ctrl({ kind: 'mq-vq-pairs-set', pairs: 1 }, 10_000)).toBe(0);
    expect(nic.device.attachedPairs).toBe(1);
    let perPair = await flood(7202, 'b');
    expect(perPair[1]).toEqual([]);
    expect(perPair[0]).toHaveLength(FLOWS);
    expect(await driver.ctrl({ kind: 'mq-vq-pairs-set', pairs: 2 }, 10_000)).toBe(0);
    expect(nic.device.attachedPairs).toBe(2);
    perPair = await flood(7203, 'c');
    expect(perPair[0]!.length + perPair[1]!.length).toBe(FLOWS);
    expect(perPair[1]!.length, 'flows on pair 1 again').toBeGreaterThan(0);
  }, 90_000);

  it('20 open/activate/close cycles of a 2-pair NIC leave no fd and no tap behind', async () => {
    const before = fdCount.fds();
    for (let i = 0; i < 20; i++) {
      const tap = uniqueName('vnc');
      const d = VhostNetDevice.open(netConfig('vhost-net', { queuePairs: 2, options: { tap } }));
      const drv = await VirtioNetDriver.create({ device: d, queuePairs: 2 });
      expect(d.attachedPairs).toBe(2);
      await drv.close();
      await d.close();
      expect(existsSync(`/sys/class/net/${tap}`)).toBe(false);
    }
    expect(fdCount.fds()).toBe(before);
  }, 180_000);
});
