import { guestOffloadFeatures, type NetDeviceConfig } from '@vnic/core';
import { testNetConfig } from '@vnic/core/testing';
import { VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, VIRTIO_NET_HDR_GSO_UDP, VIRTIO_NET_OK } from '@vnic/core/virtio_net';
import { driverPort, formatMac, GuestNetStack, parseEthernet, parseIpv4, VirtioNetDriver } from '@vnic/driver';
import { Tap } from '@vnic/sys';
import { TX_ENGINE_ENV } from '@vnic/virtio-net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostTapPeer, uniqueName, waitUntil } from '@vnic/sys/testing';
import { l4ChecksumOk, nodeInNetns, pattern, readTapFrames, tcpPartialFrame, udpPartialFrame } from '../../fixtures/offloadFrames.ts';
import { nsUdpServer } from '../../fixtures/nsUdpServer.ts';
import { pingGuestFromNetns } from '../../fixtures/pingGuestFromNetns.ts';
import { sendUdpFromNetns } from '../../fixtures/sendUdpFromNetns.ts';
import { TapNetns } from '../../fixtures/TapNetns.ts';

// The in-process backend against the host kernel: the NIC's tap is addressed inside a network
// namespace (10.200.1.1/24), the guest is @vnic/driver with the GuestNetStack (10.200.1.2). A
// second, plain tap in the namespace (10.201.1.1/24, no vnet header, no offloads) is a route out:
// what the guest sends to 10.201.1.2 is forwarded there, and the kernel must segment GSO frames and
// complete partial checksums before it writes them to that tap, where the test reads them.

const TAP_IP = '10.200.1.1';
const GUEST_IP = '10.200.1.2';
const FWD_IP = '10.201.1.1';
const FAR_IP = '10.201.1.2';
const FAR_MAC = '02:00:00:00:0f:01';
const MAC = Uint8Array.of(0x52, 0x54, 0x00, 0x7e, 0x01, 0x02);

function config(): NetDeviceConfig {
  return testNetConfig({ id: 'vnt-traffic', backend: 'virtio-net', mac: MAC, queuePairs: 1, mtu: 1500 });
}

const peer = hostTapPeer();

describe.skipIf(peer.skip)('virtio-net backend: IPv4 traffic with a host kernel tap in a namespace', () => {
  let nic: TapNetns;
  let driver: VirtioNetDriver;
  let stack: GuestNetStack;
  let fwd: Tap;
  let tapMac: Uint8Array;

  beforeAll(async () => {
    if (peer.reason !== undefined) throw new Error(`host kernel tap peer missing: ${peer.reason}`);
    nic = TapNetns.create(config(), { address: `${TAP_IP}/24`, options: { tap: uniqueName('vnt') } });
    fwd = Tap.open({ name: uniqueName('vnf'), vnetHdr: false, nonBlocking: true });
    nic.ns.adopt(fwd.name);
    nic.ns.ip('addr', 'add', `${FWD_IP}/24`, 'dev', fwd.name);
    nic.ns.ip('link', 'set', fwd.name, 'up');
    nic.ns.ip('neigh', 'replace', FAR_IP, 'lladdr', FAR_MAC, 'dev', fwd.name, 'nud', 'permanent');
    nic.ns.exec('sysctl', '-qw', 'net.ipv4.ip_forward=1');
    driver = await VirtioNetDriver.create({ device: nic.device });
    stack = new GuestNetStack(driverPort(driver), { mac: MAC, ip: GUEST_IP });
    tapMac = await stack.resolve(TAP_IP, 2000);
  });

  afterAll(async () => {
    await driver?.close();
    fwd?.close();
    await nic?.close();
  });

  it('ARP: the guest resolves the tap address and answers the kernel, which can then ping it', async () => {
    const sysfsMac = nic.ns.exec('cat', `/sys/class/net/${nic.tap}/address`).trim();
    expect(formatMac(tapMac)).toBe(sysfsMac);
    const answered = stack.counters.arpAnswered;
    const echoes = stack.counters.echoAnswered;
    nic.ns.ip('neigh', 'flush', 'dev', nic.tap);
    const stdout = await pingGuestFromNetns(nic.ns.name, GUEST_IP, stack);
    expect(stdout).toMatch(/3 packets transmitted, 3 received/);
    expect(stack.counters.arpAnswered).toBeGreaterThan(answered);
    expect(stack.counters.echoAnswered - echoes).toBeGreaterThanOrEqual(3);
    expect(nic.ns.ip('neigh', 'show', GUEST_IP, 'dev', nic.tap)).toContain(formatMac(MAC));
  });

  it('ICMP: echo requests to the tap address get their replies, data intact', async () => {
    for (let seq = 1; seq <= 5; seq++) {
      // ping resolves only on a reply with our id, seq and data (else it throws its timeout).
      const rtt = await stack.ping(TAP_IP, seq, 56 + seq * 100, 2000);
      expect(Number.isFinite(rtt)).toBe(true);
      expect(rtt).toBeGreaterThan(0);
    }
  });

  it('UDP from the namespace reaches the guest, payloads verified', async () => {
    stack.listenUdp(7000);
    const sent = [1, 100, 1000, 1472].map((n, i) => pattern(n, i));
    const payloads = sent.map((p) => Buffer.from(p).toString('hex'));
    nic.ns.ip('neigh', 'replace', GUEST_IP, 'lladdr', formatMac(MAC), 'dev', nic.tap, 'nud', 'permanent');
    await sendUdpFromNetns(nic.ns.name, GUEST_IP, 7000, sent);
    const got: string[] = [];
    for (let i = 0; i < payloads.length; i++) {
      const d = await stack.receiveUdp(7000, 2000);
      expect(d, `datagram ${i}`).toBeDefined();
      expect(d!.srcIp).toBe(TAP_IP);
      got.push(Buffer.from(d!.payload).toString('hex'));
    }
    expect(got).toEqual(payloads);
  });

  it('TUNSETOFFLOAD follows the guest: partial checksums with GUEST_CSUM, complete ones after GUEST_OFFLOADS_SET 0', async () => {
    nic.ns.ip('neigh', 'replace', GUEST_IP, 'lladdr', formatMac(MAC), 'dev', nic.tap, 'nud', 'permanent');
    const send = (tag: string): Promise<string> =>
      nodeInNetns(
        nic.ns.name,
        `const s = require('node:dgram').createSocket('udp4'); s.send(Buffer.from('${tag}'.repeat(100)), 7002, '${GUEST_IP}', () => s.close());`,
      );
    const next = async (): Promise<{ flags: number; ok: boolean }> => {
      for (;;) {
        const rx = await driver.receive(0, 2000);
        if (rx === undefined) throw new Error('no UDP frame for port 7002');
        const ip = parseIpv4(parseEthernet(rx.frame)!.payload);
        if (ip === undefined || ip.protocol !== 17 || ((ip.payload[2]! << 8) | ip.payload[3]!) !== 7002) continue;
        return { flags: rx.hdr.flags, ok: l4ChecksumOk(ip.src, ip.dst, 17, ip.payload) };
      }
    };
    await send('a');
    const partial = await next();
    expect(partial.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM).toBe(VIRTIO_NET_HDR_F_NEEDS_CSUM);
    expect(partial.ok).toBe(false); // only the pseudo-header sum is there: the guest finishes it
    expect(await driver.ctrl({ kind: 'guest-offloads-set', offloads: 0n })).toBe(VIRTIO_NET_OK);
    await send('b');
    const full = await next();
    expect(full.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM).toBe(0);
    expect(full.ok).toBe(true);
    expect(await driver.ctrl({ kind: 'guest-offloads-set', offloads: guestOffloadFeatures(driver.features) })).toBe(VIRTIO_NET_OK);
  });

  it('UDP from the guest reaches a socket in the namespace, payloads verified', async () => {
    const payloads = [1, 64, 1000, 1472].map((n, i) => pattern(n, 50 + i));
    const server = nsUdpServer(nic.ns.name, TAP_IP, 7001, payloads.length);
    try {
      await server.ready;
      for (const p of payloads) expect(await stack.sendUdp(TAP_IP, 7001, 40001, p)).toBe(true);
      expect(await server.received).toEqual(payloads.map((p) => Buffer.from(p).toString('hex')));
    } finally {
      server.stop();
    }
  });

  /**
   * The TX counters once the device has published every frame the guest sent so far: flushTx
   * returns when the used ring holds them, and the counters, published in the same step right
   * after, must account for every used element (a thread descheduled between the two would
   * otherwise leave a snapshot one frame behind).
   */
  async function settledTx(): Promise<ReturnType<typeof nic.device.stats>[number]> {
    await driver.flushTx();
    const used = driver.queue(1).lastUsed;
    await waitUntil(
      () => {
        const s = nic.device.stats()[1]!;
        return ((s.packets + s.drops + s.malformed) & 0xffff) === used;
      },
      'the TX counters of every used frame',
      2000,
    );
    return nic.device.stats()[1]!;
  }

  it('a frame with NEEDS_CSUM leaves with its UDP checksum completed', async () => {
    const payload = pattern(300, 9);
    const frame = udpPartialFrame({ srcMac: MAC, dstMac: tapMac, src: GUEST_IP, dst: FAR_IP }, 40002, 5003, payload);
    const before = await settledTx();
    expect(driver.send(frame, { hdr: { flags: VIRTIO_NET_HDR_F_NEEDS_CSUM, csumStart: 34, csumOffset: 6 } })).toBe(true);
    const [out] = await readTapFrames(
      fwd.fds[0]!,
      (f) => isUdpTo(f, 5003),
      (fs) => fs.length >= 1,
    );
    expect(out).toBeDefined();
    const ip = parseIpv4(parseEthernet(out!)!.payload)!;
    expect(ip.ttl).toBe(63); // forwarded once
    expect(l4ChecksumOk(GUEST_IP, FAR_IP, 17, ip.payload)).toBe(true);
    expect([...ip.payload.subarray(8)]).toEqual([...payload]);
    const after = await settledTx();
    expect(after.packets - before.packets).toBe(1);
    expect(after.bytes - before.bytes).toBe(frame.length);
  });

  it('a 64 KB TSO frame (GSO TCPV4 + NEEDS_CSUM) leaves as MSS-sized segments with valid checksums', async () => {
    const mss = 1448;
    const payload = pattern(64_000, 3);
    const seq = 0x10000000;
    const frame = tcpPartialFrame({ srcMac: MAC, dstMac: tapMac, src: GUEST_IP, dst: FAR_IP }, 40003, 5001, seq, payload);
    const before = await settledTx();
    const sent = driver.send(frame, {
      hdr: { flags: VIRTIO_NET_HDR_F_NEEDS_CSUM, gsoType: VIRTIO_NET_HDR_GSO_TCPV4, hdrLen: 54, gsoSize: mss, csumStart: 34, csumOffset: 16 },
    });
    expect(sent).toBe(true);
    const want = Math.ceil(payload.length / mss);
    const segs = await readTapFrames(
      fwd.fds[0]!,
      (f) => isTcpTo(f, 5001),
      (fs) => fs.length >= want,
    );
    expect(segs).toHaveLength(want);
    const data = new Uint8Array(payload.length);
    let next = seq;
    for (const [i, f] of segs.entries()) {
      expect(f.length).toBeLessThanOrEqual(14 + 1500);
      const ip = parseIpv4(parseEthernet(f)!.payload)!; // parseIpv4 verifies the header checksum
      expect(ip.ttl).toBe(63);
      const tcp = ip.payload;
      expect(l4ChecksumOk(GUEST_IP, FAR_IP, 6, tcp), `segment ${i} checksum`).toBe(true);
      const s = new DataView(tcp.buffer, tcp.byteOffset).getUint32(4);
      expect(s).toBe(next);
      const body = tcp.subarray(20);
      expect(body.length).toBe(i < want - 1 ? mss : payload.length - mss * (want - 1));
      data.set(body, s - seq);
      next += body.length;
      expect((tcp[13]! & 0x08) !== 0, `PSH on segment ${i}`).toBe(i === want - 1);
    }
    expect(Buffer.compare(data, payload)).toBe(0);
    const after = await settledTx();
    expect(after.packets - before.packets).toBe(1); // one frame from the guest's point of view
    expect(after.bytes - before.bytes).toBe(frame.length);
  });

  it('a UFO frame (GSO UDP + NEEDS_CSUM) leaves as IP fragments that reassemble with a valid checksum', async () => {
    const fragPayload = 1480;
    const payload = pattern(8000, 11);
    const frame = udpPartialFrame({ srcMac: MAC, dstMac: tapMac, src: GUEST_IP, dst: FAR_IP }, 40004, 5002, payload, 0x7777);
    const sent = driver.send(frame, {
      hdr: { flags: VIRTIO_NET_HDR_F_NEEDS_CSUM, gsoType: VIRTIO_NET_HDR_GSO_UDP, hdrLen: 42, gsoSize: fragPayload, csumStart: 34, csumOffset: 6 },
    });
    expect(sent).toBe(true);
    const l4Length = 8 + payload.length;
    const want = Math.ceil(l4Length / fragPayload);
    const frags = await readTapFrames(
      fwd.fds[0]!,
      (f) => isIpFragmentOf(f, FAR_IP),
      (fs) => fs.length >= want,
    );
    expect(frags).toHaveLength(want);
    const whole = new Uint8Array(l4Length);
    let covered = 0;
    for (const f of frags) {
      const ip = parseIpv4(parseEthernet(f)!.payload)!;
      expect(ip.id).toBe(0x7777);
      const offset = ip.fragmentOffset! * 8;
      expect(ip.moreFragments).toBe(offset + ip.payload.length < l4Length);
      whole.set(ip.payload, offset);
      covered += ip.payload.length;
    }
    expect(covered).toBe(l4Length);
    expect(l4ChecksumOk(GUEST_IP, FAR_IP, 17, whole)).toBe(true);
    expect(Buffer.compare(whole.subarray(8), payload)).toBe(0);
  });

  // Last in the file: it re-activates the device with the other TX engine.
  it(`with ${TX_ENGINE_ENV}=writev (the fallback TX path, one writev per frame) UDP from the guest still arrives intact`, async () => {
    const saved = process.env[TX_ENGINE_ENV];
    process.env[TX_ENGINE_ENV] = 'writev';
    try {
      await driver.close();
      driver = await VirtioNetDriver.create({ device: nic.device });
      stack = new GuestNetStack(driverPort(driver), { mac: MAC, ip: GUEST_IP });
      await stack.resolve(TAP_IP, 2000);
    } finally {
      if (saved === undefined) delete process.env[TX_ENGINE_ENV];
      else process.env[TX_ENGINE_ENV] = saved;
    }
    const payloads = [1, 64, 1000, 1472].map((n, i) => pattern(n, 70 + i));
    const server = nsUdpServer(nic.ns.name, TAP_IP, 7009, payloads.length);
    try {
      await server.ready;
      for (const p of payloads) expect(await stack.sendUdp(TAP_IP, 7009, 40009, p)).toBe(true);
      expect(await server.received).toEqual(payloads.map((p) => Buffer.from(p).toString('hex')));
    } finally {
      server.stop();
    }
  });
});

function ipv4Of(f: Uint8Array): ReturnType<typeof parseIpv4> {
  const eth = parseEthernet(f);
  return eth === undefined || eth.etherType !== 0x0800 ? undefined : parseIpv4(eth.payload);
}

function isUdpTo(f: Uint8Array, port: number): boolean {
  const ip = ipv4Of(f);
  return ip !== undefined && ip.dst === FAR_IP && ip.protocol === 17 && ip.fragmentOffset === 0 && ((ip.payload[2]! << 8) | ip.payload[3]!) === port;
}

function isTcpTo(f: Uint8Array, port: number): boolean {
  const ip = ipv4Of(f);
  return ip !== undefined && ip.dst === FAR_IP && ip.protocol === 6 && ((ip.payload[2]! << 8) | ip.payload[3]!) === port;
}

function isIpFragmentOf(f: Uint8Array, dst: string): boolean {
  const ip = ipv4Of(f);
  return ip !== undefined && ip.dst === dst && ip.protocol === 17 && (ip.moreFragments === true || ip.fragmentOffset !== 0);
}
