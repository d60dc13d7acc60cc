import type { NetDeviceConfig } from '@vnic/core';
import { driverPort, formatMac, GuestNetStack, VirtioNetDriver } from '@vnic/driver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testNetConfig } from '@vnic/core/testing';
import { hostTapPeer } from '@vnic/sys/testing';
import { nodeInNetns, pattern } from '../../fixtures/offloadFrames.ts';
import { nsUdpServer } from '../../fixtures/nsUdpServer.ts';
import { receiveUdpPerPair } from '../../fixtures/receiveUdpPerPair.ts';
import { TapNetns } from '../../fixtures/TapNetns.ts';

// Two queue pairs, one tap queue and one IO thread each. The guest enables both pairs with
// VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET; the kernel spreads flows over the attached tap queues.

const TAP_IP = '10.200.2.1';
const GUEST_IP = '10.200.2.2';
const MAC = Uint8Array.of(0x52, 0x54, 0x00, 0x7e, 0x02, 0x02);
const FLOWS = 64;

function config(): NetDeviceConfig {
  return testNetConfig({ id: 'vnt-mq', backend: 'virtio-net', mac: MAC, queuePairs: 2 });
}

/** Sends one datagram to the guest from each of `flows` sockets (distinct source ports: distinct flows). */
const FLOOD = `
const dgram = require('node:dgram');
const [dst, port, flows, tag] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3]), process.argv[4]];
let left = flows;
for (let i = 0; i < flows; i++) {
  const s = dgram.createSocket('udp4');
  s.send(Buffer.from(tag + ':' + i), port, dst, () => { s.close(); if (--left === 0) process.exit(0); });
}`;

const peer = hostTapPeer();

describe.skipIf(peer.skip)('virtio-net backend: multiqueue over a host kernel tap', () => {
  let nic: TapNetns;
  let driver: VirtioNetDriver;

  beforeAll(async () => {
    if (peer.reason !== undefined) throw new Error(`host kernel tap peer missing: ${peer.reason}`);
    nic = TapNetns.create(config(), { address: `${TAP_IP}/24` });
    nic.ns.ip('neigh', 'replace', GUEST_IP, 'lladdr', formatMac(MAC), 'dev', nic.tap, 'nud', 'permanent');
    driver = await VirtioNetDriver.create({ device: nic.device, queuePairs: 2 });
  });

  afterAll(async () => {
    await driver?.close();
    await nic?.close();
  });

  const collect = (port: number, count: number): Promise<string[][]> => receiveUdpPerPair(driver, port, count);

  it('runs one IO thread per enabled pair and spreads received flows over both', async () => {
    expect(driver.queuePairs).toBe(2);
    expect(nic.device.ctrlState.activePairs).toBe(2);
    const before = nic.device.stats();
    await nodeInNetns(nic.ns.name, FLOOD, [GUEST_IP, '7100', String(FLOWS), 'a']);
    const perPair = await collect(7100, FLOWS);
    expect(perPair[0]!.length + perPair[1]!.length).toBe(FLOWS);
    expect(perPair[0]!.length, 'flows on pair 0').toBeGreaterThan(0);
    expect(perPair[1]!.length, 'flows on pair 1').toBeGreaterThan(0);
    expect(new Set([...perPair[0]!, ...perPair[1]!]).size).toBe(FLOWS);
    const after = nic.device.stats();
    expect(after[0]!.packets - before[0]!.packets).toBe(perPair[0]!.length);
    expect(after[2]!.packets - before[2]!.packets).toBe(perPair[1]!.length);
  });

  it('transmits on pair 1 (its own thread and tap queue)', async () => {
    const stack = new GuestNetStack(driverPort(driver, { queuePair: 1 }), { mac: MAC, ip: GUEST_IP });
    const payloads = [10, 500, 1400].map((n, i) => pattern(n, 70 + i));
    const server = nsUdpServer(nic.ns.name, TAP_IP, 7101, payloads.length);
    try {
      await server.ready;
      const before = nic.device.stats()[3]!.packets;
      for (const p of payloads) expect(await stack.sendUdp(TAP_IP, 7101, 40100, p)).toBe(true);
      expect(await server.received).toEqual(payloads.map((p) => Buffer.from(p).toString('hex')));
      await driver.flushTx(1);
      expect(nic.device.stats()[3]!.packets - before).toBeGreaterThanOrEqual(payloads.length);
    } finally {
      server.stop();
    }
  });

  it('VQ_PAIRS_SET 1 stops pair 1 (tap queue detached, all flows on pair 0); 2 brings it back', async () => {
    expect(await driver.ctrl({ kind: 'mq-vq-pairs-set', pairs: 1 })).toBe(0);
    // The thread stops asynchronously: wait until flows no longer reach pair 1.
    let perPair: string[][] = [[], []];
    for (let round = 0; round < 10; round++) {
      await nodeInNetns(nic.ns.name, FLOOD, [GUEST_IP, '7102', '16', `b${round}`]);
      perPair = await collect(7102, 16);
      if (perPair[1]!.length === 0 && perPair[0]!.length === 16) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(perPair[1]).toEqual([]);
    expect(perPair[0]).toHaveLength(16);
    const pair1Before = nic.device.stats()[2]!.packets;
    await nodeInNetns(nic.ns.name, FLOOD, [GUEST_IP, '7103', String(FLOWS), 'c']);
    perPair = await collect(7103, FLOWS);
    expect(perPair[0]).toHaveLength(FLOWS);
    expect(nic.device.stats()[2]!.packets).toBe(pair1Before);

    expect(await driver.ctrl({ kind: 'mq-vq-pairs-set', pairs: 2 })).toBe(0);
    let both = false;
    for (let round = 0; round < 10 && !both; round++) {
      await nodeInNetns(nic.ns.name, FLOOD, [GUEST_IP, '7104', String(FLOWS), `d${round}`]);
      perPair = await collect(7104, FLOWS);
      expect(perPair[0]!.length + perPair[1]!.length).toBe(FLOWS);
      both = perPair[0]!.length > 0 && perPair[1]!.length > 0;
    }
    expect(both).toBe(true);
  });
});
