import { featureBit, VIRTIO_F_EVENT_IDX } from '@vnic/core';
import { buildEthernet, buildIpv4, buildUdp, DRIVER_FEATURES, formatMac, parseMacAddress, VirtioNetDriver } from '@vnic/driver';
import { PacketSocket } from '@vnic/sys';
import { hostTapPeer, Netns, uniqueName } from '@vnic/sys/testing';
import { VhostUserNetDevice } from '@vnic/vhost-user';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { OUTSIDE_MAC, testFrame } from '../../conformance/frames.ts';
import { netConfig } from '../../conformance/netConfig.ts';
import { startServe, type ServeProcess } from '../../cli/serveProcess.ts';
import { nsUdpMeter, type UdpArrivals } from '../../fixtures/nsUdpMeter.ts';
import { expectWithin, RATE_WARMUP_MS, RATE_WINDOW_MS, rateClockMs, rateInWindow, UDP_FRAME_OVERHEAD } from '../../fixtures/udpRateWindow.ts';
import { socketDir } from './peerSupport.ts';

// `vnic serve --rate-limit` and `vnic serve --coalesce` as a user runs them: a `vnic serve` process
// inside a throw-away namespace (its tap there, 10.204.0.1/24), and as the frontend vnic's own
// vhost-user frontend (VhostUserNetDevice) with @vnic/driver as the guest (10.204.0.2, a permanent
// neighbour entry in the namespace). The frontend serves the control queue itself (as QEMU and
// DPDK do), so what the options set is all the server's IO threads go by.
// - Rate limit: the guest streams UDP datagrams, its TX ring kept full; a UDP socket in the
//   namespace timestamps each arrival; over a 3 s window starting 1 s after the first arrival the
//   bytes/s must be within +-10% of the limit, and every datagram the guest queued arrives once
//   (TX over the limit waits in the ring: nothing dropped).
// - Coalescing: frames are injected into the tap one at a time, each delivered before the next
//   (without coalescing, one notification each); the guest (no EVENT_IDX, never suppressing
//   interrupts) counts the notifications from its RX call eventfd.

const MAC = Uint8Array.of(0x52, 0x54, 0x00, 0x7e, 0x0d, 0x01);
const TAP_IP = '10.204.0.1';
const GUEST_IP = '10.204.0.2';
const PORT = 7200;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const peer = hostTapPeer();
const sockets = socketDir();
afterAll(() => sockets.remove());

describe.skipIf(peer.skip)('vnic serve: --rate-limit and --coalesce on the data plane, TS driver over vhost-user as the frontend', () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  /** A namespace, `vnic serve <args>` in it on a new tap, the frontend + driver connected to it, the tap up with TAP_IP. */
  async function rig(name: string, args: string[], features?: bigint): Promise<{ ns: Netns; tap: string; serve: ServeProcess; driver: VirtioNetDriver }> {
    if (peer.reason !== undefined) throw new Error(`host kernel tap peer missing: ${peer.reason}`);
    const ns = Netns.create('vnsl');
    cleanup.push(() => ns.delete());
    ns.exec('sysctl', '-qw', 'net.ipv6.conf.default.disable_ipv6=1', 'net.ipv6.conf.all.disable_ipv6=1');
    const tap = uniqueName('vsl');
    const sock = sockets.path(`${name}.sock`);
    const serve = startServe(['--socket', sock, '--tap', tap, ...args], ['ip', 'netns', 'exec', ns.name]);
    cleanup.push(async () => {
      if (serve.child.exitCode !== null) return;
      serve.child.kill('SIGTERM');
      const t = setTimeout(() => serve.child.kill('SIGKILL'), 5000);
      await serve.exited;
      clearTimeout(t);
    });
    await serve.waitFor(/listening on /, 30_000);
    ns.ip('addr', 'add', `${TAP_IP}/24`, 'dev', tap);
    ns.ip('link', 'set', tap, 'up');
    ns.ip('neigh', 'replace', GUEST_IP, 'lladdr', formatMac(MAC), 'dev', tap, 'nud', 'permanent');
    const device = await VhostUserNetDevice.create(netConfig('vhost-user', { mac: MAC, ctrlVq: false }), {
      socket: sock,
      mode: 'client',
      reconnect: false,
      connectTimeoutMs: 10_000,
      replyTimeoutMs: 10_000,
    });
    cleanup.push(() => device.close());
    const driver = await VirtioNetDriver.create({ device, ...(features === undefined ? {} : { features }) });
    cleanup.push(() => driver.close());
    await serve.waitFor(/queue pair 0 running \(receiveq \+ transmitq\)/, 30_000);
    return { ns, tap, serve, driver };
  }

  it('--rate-limit: TX bytes/s within +-10% of 500 kB/s over 3 s in the namespace, every datagram arrives once', async () => {
    const limit = { tx: { bandwidth: { size: 50_000, refillTimeMs: 100, oneTimeBurst: 25_000 } } };
    const { ns, tap, serve, driver } = await rig('rl', ['--rate-limit', JSON.stringify(limit)]);
    const tapMac = parseMacAddress(ns.exec('cat', `/sys/class/net/${tap}/address`).trim());
    const meter = nsUdpMeter(ns.name, TAP_IP, PORT);
    cleanup.push(() => meter.stop());
    await meter.ready;

    const payloadBytes = 1000 - UDP_FRAME_OVERHEAD;
    const frame = (seq: number): Uint8Array => {
      const payload = new Uint8Array(payloadBytes).fill(0x44);
      new DataView(payload.buffer).setUint32(0, seq);
      const udp = buildUdp({ srcPort: 40200, dstPort: PORT, payload }, GUEST_IP, TAP_IP);
      return buildEthernet({
        dst: tapMac,
        src: MAC,
        etherType: 0x0800,
        payload: buildIpv4({ src: GUEST_IP, dst: TAP_IP, protocol: 17, payload: udp, id: seq & 0xffff }),
      });
    };
    // Stream with the ring kept full: send() refuses while the server holds the ring back.
    const start = rateClockMs();
    let seq = 0;
    let next = frame(seq);
    while (rateClockMs() - start < RATE_WARMUP_MS + RATE_WINDOW_MS + 1000) {
      while (driver.send(next)) next = frame(++seq);
      await sleep(1);
    }
    const sent = seq;
    let a: UdpArrivals = await meter.report();
    const deadline = Date.now() + 30_000;
    while (a.at.length < sent && Date.now() < deadline) {
      await sleep(100);
      a = await meter.report();
    }
    expectWithin(rateInWindow(a).bps, 500_000, 'TX bytes/s');
    // Nothing dropped: every datagram the guest queued arrived, exactly once.
    expect(a.at.length, 'datagrams at the namespace socket').toBe(sent);
    expect([...a.seq].sort((x, y) => x - y)).toEqual(Array.from({ length: sent }, (_, i) => i));
    expect(serve.output()).not.toMatch(/warning/);
  }, 90_000);

  it('--coalesce rx maxPackets 8: one notification per 8 frames received (32 frames, each alone: 32 without)', async () => {
    const coalesce = { rx: { maxPackets: 8, maxUsecs: 1_000_000 } };
    const { ns, tap, driver } = await rig('coal', ['--coalesce', JSON.stringify(coalesce)], DRIVER_FEATURES & ~featureBit(VIRTIO_F_EVENT_IDX));
    const sock = PacketSocket.open(tap, { netns: ns.name });
    cleanup.push(() => sock.close());
    const before = driver.notifications(0);
    for (let i = 0; i < 32; i++) {
      expect(sock.send(testFrame(MAC, OUTSIDE_MAC, 5000 + i, 64))).toBe(true);
      // Delivered before the next is injected (a held notification: the driver finds it on its next look).
      const r = await driver.receive(0, 10_000);
      expect(r, `frame ${i + 1} of 32`).toBeDefined();
    }
    const n = driver.notifications(0) - before;
    // 32 / 8 = 4; a loaded machine may make a 1 s window run out early, and the timer flushes it.
    expect(n).toBeGreaterThanOrEqual(4);
    expect(n).toBeLessThanOrEqual(8);
  }, 90_000);

  it('--coalesce with a bad value is refused naming the field, before anything is opened', async () => {
    const serve = startServe(['--socket', sockets.path('bad.sock'), '--coalesce', '{"rx":{"maxPackets":8,"maxUsecs":2000000}}']);
    expect(await serve.exited).not.toBe(0);
    expect(serve.output()).toMatch(/--coalesce: coalescing\.rx\.maxUsecs: must be at most 1000000/);
  }, 30_000);
});
