import { createNetDevices } from '@vnic/config';
import type { NetRateLimit } from '@vnic/core';
import { buildEthernet, buildIpv4, buildUdp, formatMac, parseMacAddress, VirtioNetDriver } from '@vnic/driver';
import { cleanupAfterEach, hostTapPeer } from '@vnic/sys/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { netConfig } from '../../conformance/netConfig.ts';
import { nsUdpFlood } from '../../fixtures/nsUdpFlood.ts';
import { expectWithin, RATE_WARMUP_MS, RATE_WINDOW_MS, rateClockMs, rateIn, rateInWindow, UDP_FRAME_OVERHEAD } from '../../fixtures/udpRateWindow.ts';
import { nsUdpMeter, type NsUdpMeter, type UdpArrivals } from '../../fixtures/nsUdpMeter.ts';
import { TapNetns } from '../../fixtures/TapNetns.ts';

// Rate limits on a real tap. The NIC's tap lives in a namespace (10.203.0.1/24); the guest is
// @vnic/driver (10.203.0.2, a permanent neighbour entry in the namespace). TX: the guest streams
// UDP datagrams, keeping its ring full, and a UDP socket inside the namespace timestamps each
// arrival. RX: a paced sender inside the namespace sends twice the limit, and the guest timestamps
// what it receives. The rate is counted over a 3 s window that starts 1 s after the first
// arrival (the bucket's first fill and the one-time burst are spent by then) and must be within
// +-10% of the configured one. The configured rates are far below what the machine can do (about
// 1000-3000 frames/s), so a loaded machine still keeps up. TX must drop nothing: every datagram
// the guest queued arrives, once.

const MAC = Uint8Array.of(0x52, 0x54, 0x00, 0x7e, 0x0c, 0x01);
const TAP_IP = '10.203.0.1';
const GUEST_IP = '10.203.0.2';
const PORT = 7100;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const peer = hostTapPeer();

describe.skipIf(peer.skip)('virtio-net backend: rate limits measured through a real tap', () => {
  const cleanups = cleanupAfterEach(afterEach);

  async function setUp(id: string, rateLimit: NetRateLimit): Promise<{ n: TapNetns; d: VirtioNetDriver; tapMac: Uint8Array }> {
    if (peer.reason !== undefined) throw new Error(`host kernel tap peer missing: ${peer.reason}`);
    const n = TapNetns.create(netConfig('virtio-net', { id, mac: MAC, ctrlVq: false, rateLimit }), { address: `${TAP_IP}/24` });
    cleanups.push(() => n.close());
    n.ns.ip('neigh', 'replace', GUEST_IP, 'lladdr', formatMac(MAC), 'dev', n.tap, 'nud', 'permanent');
    const d = await VirtioNetDriver.create({ device: n.device });
    cleanups.push(() => d.close());
    const tapMac = parseMacAddress(n.ns.exec('cat', `/sys/class/net/${n.tap}/address`).trim());
    return { n, d, tapMac };
  }

  function udpFrame(tapMac: Uint8Array, seq: number, payloadBytes: number): Uint8Array {
    const payload = new Uint8Array(payloadBytes).fill(0x33);
    new DataView(payload.buffer).setUint32(0, seq);
    const udp = buildUdp({ srcPort: 40100, dstPort: PORT, payload }, GUEST_IP, TAP_IP);
    return buildEthernet({
      dst: tapMac,
      src: MAC,
      etherType: 0x0800,
      payload: buildIpv4({ src: GUEST_IP, dst: TAP_IP, protocol: 17, payload: udp, id: seq & 0xffff }),
    });
  }

  /**
   * Streams datagrams for `ms`, the ring kept full (the device holds it back: send() refuses while
   * it is full); `at(t)` runs on the way (a run-time change). Returns how many were queued.
   */
  async function streamTx(
    d: VirtioNetDriver,
    tapMac: Uint8Array,
    ms: number,
    payloadBytes: number,
    at?: { afterMs: number; run: () => void },
  ): Promise<number> {
    const start = rateClockMs();
    let seq = 0;
    let done = at === undefined;
    let next = udpFrame(tapMac, seq, payloadBytes);
    while (rateClockMs() - start < ms) {
      while (d.send(next)) next = udpFrame(tapMac, ++seq, payloadBytes);
      if (!done && rateClockMs() - start >= at!.afterMs) {
        at!.run();
        done = true;
      }
      await sleep(1);
    }
    return seq;
  }

  /** Waits until the meter has `count` datagrams (all the guest queued), then returns them. */
  async function arrivals(m: NsUdpMeter, count: number): Promise<UdpArrivals> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const a = await m.report();
      if (a.at.length >= count || Date.now() > deadline) return a;
      await sleep(100);
    }
  }

  /** Every datagram the guest queued arrived exactly once; the device counted no drop. */
  function expectNoneLost(a: UdpArrivals, sent: number, n: TapNetns): void {
    expect(a.at.length, 'datagrams at the namespace socket').toBe(sent);
    expect([...a.seq].sort((x, y) => x - y)).toEqual(Array.from({ length: sent }, (_, i) => i));
    const tx = n.device.stats()[1]!;
    expect(tx.drops).toBe(0);
    expect(tx.packets).toBe(sent);
    expect(tx.throttled).toBeGreaterThan(0);
    expect(tx.throttledBytes).toBeGreaterThan(0);
  }

  async function startMeter(n: TapNetns): Promise<NsUdpMeter> {
    const m = nsUdpMeter(n.ns.name, TAP_IP, PORT);
    cleanups.push(() => m.stop());
    await m.ready;
    return m;
  }

  it('TX frames/s: 2000 frames/s (ops bucket 200 per 100 ms) measured in the namespace, nothing dropped', async () => {
    const { n, d, tapMac } = await setUp('vnt-rltxops', { tx: { ops: { size: 200, refillTimeMs: 100 } } });
    const m = await startMeter(n);
    const sent = await streamTx(d, tapMac, RATE_WARMUP_MS + RATE_WINDOW_MS + 1000, 100);
    const a = await arrivals(m, sent);
    expectWithin(rateInWindow(a).fps, 2000, 'TX frames/s');
    expectNoneLost(a, sent, n);
  }, 60_000);

  it('TX bytes/s: 1 MB/s (bandwidth bucket 100000 B per 100 ms, 1000-byte frames) measured in the namespace, nothing dropped', async () => {
    const { n, d, tapMac } = await setUp('vnt-rltxbw', { tx: { bandwidth: { size: 100_000, refillTimeMs: 100, oneTimeBurst: 50_000 } } });
    const m = await startMeter(n);
    const sent = await streamTx(d, tapMac, RATE_WARMUP_MS + RATE_WINDOW_MS + 1000, 1000 - UDP_FRAME_OVERHEAD);
    const a = await arrivals(m, sent);
    const r = rateInWindow(a);
    expectWithin(r.bps, 1_000_000, 'TX bytes/s');
    expectWithin(r.fps, 1000, 'TX frames/s (1000-byte frames)');
    expectNoneLost(a, sent, n);
  }, 60_000);

  it('TX: a limit raised at run time (1000 -> 3000 frames/s, no reset) holds from one refill period after the change', async () => {
    const { n, d, tapMac } = await setUp('vnt-rltxchg', { tx: { ops: { size: 100, refillTimeMs: 100 } } });
    const m = await startMeter(n);
    let changedAt = 0;
    const sent = await streamTx(d, tapMac, 7000, 100, {
      afterMs: 3500,
      run: () => {
        changedAt = rateClockMs();
        n.device.setRateLimit({ tx: { ops: { size: 300, refillTimeMs: 100 } } });
      },
    });
    const a = await arrivals(m, sent);
    const first = Math.min(...a.at);
    expectWithin(rateIn(a, first + RATE_WARMUP_MS, changedAt).fps, 1000, 'TX frames/s before the change');
    // One refill period (100 ms) after the change, the new rate governs.
    expectWithin(rateIn(a, changedAt + 100, changedAt + 100 + 3000).fps, 3000, 'TX frames/s from one refill period after the change');
    expectNoneLost(a, sent, n);
  }, 60_000);

  /** Floods the guest at `rate` for `ms` and timestamps what it receives (UDP to PORT only). */
  async function receiveRx(n: TapNetns, d: VirtioNetDriver, rate: number, ms: number, payloadBytes: number): Promise<UdpArrivals> {
    const got: UdpArrivals = { at: [], bytes: [], seq: [] };
    const f = nsUdpFlood(n.ns.name, GUEST_IP, PORT, rate, ms, payloadBytes);
    cleanups.push(() => f.stop());
    let finished = false;
    void f.done.finally(() => (finished = true));
    const end = rateClockMs() + ms + 20_000;
    while (!finished && rateClockMs() < end) {
      for (let r = d.tryReceive(); r !== undefined; r = d.tryReceive()) {
        const fr = r.frame;
        if (fr.length < 46 || fr[12] !== 0x08 || fr[13] !== 0x00 || fr[23] !== 17 || ((fr[36]! << 8) | fr[37]!) !== PORT) continue;
        got.at.push(rateClockMs());
        got.bytes.push(fr.length - UDP_FRAME_OVERHEAD);
        got.seq.push(new DataView(fr.buffer, fr.byteOffset + UDP_FRAME_OVERHEAD, 4).getUint32(0));
      }
      await sleep(1);
    }
    await f.done;
    return got;
  }

  it('RX frames/s: 1500 frames/s (ops bucket 150 per 100 ms) while the namespace sends 3000/s; the tap is not read beyond it', async () => {
    const { n, d } = await setUp('vnt-rlrxops', { rx: { ops: { size: 150, refillTimeMs: 100 } } });
    const a = await receiveRx(n, d, 3000, RATE_WARMUP_MS + RATE_WINDOW_MS + 1000, 100);
    expectWithin(rateInWindow(a).fps, 1500, 'RX frames/s');
    const rx = n.device.stats()[0]!;
    expect(rx.throttled).toBeGreaterThan(0);
    expect(rx.throttledBytes).toBeGreaterThan(0);
  }, 60_000);

  it('RX bytes/s: 1 MB/s (bandwidth bucket 100000 B per 100 ms, 1000-byte frames) while the namespace sends 2 MB/s', async () => {
    const { n, d } = await setUp('vnt-rlrxbw', { rx: { bandwidth: { size: 100_000, refillTimeMs: 100 } } });
    const a = await receiveRx(n, d, 2000, RATE_WARMUP_MS + RATE_WINDOW_MS + 1000, 1000 - UDP_FRAME_OVERHEAD);
    const r = rateInWindow(a);
    expectWithin(r.bps, 1_000_000, 'RX bytes/s');
    expectWithin(r.fps, 1000, 'RX frames/s (1000-byte frames)');
  }, 60_000);
});

describe('rate limits where vnic is not on the data path', () => {
  const limit = { tx: { bandwidth: { size: 125_000, refillTimeMs: 100 } } };
  for (const [backend, section] of [
    ['vhost-net', { tap: 'vnic-rl0' }],
    ['vhost-user', { socket: '/tmp/vnic-rl-none.sock' }],
  ] as const) {
    it(`${backend}: a configured limit is a config error naming the field and why (nothing is opened)`, async () => {
      const raw = { net: [{ id: 'net0', backend, mac: '52:54:00:7e:0c:02', rateLimit: limit, [backend]: section }] };
      const err = await createNetDevices(raw).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(err?.name).toBe('ConfigError');
      expect(err?.message).toContain('net[0].rateLimit');
      expect(err?.message).toContain(`the backend "${backend}" cannot apply a rate limit: vnic is not on its data path`);
    });
  }
});
