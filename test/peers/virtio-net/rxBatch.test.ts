import { Worker } from 'node:worker_threads';
import { readdirSync, readFileSync } from 'node:fs';
import type { NetDeviceConfig } from '@vnic/core';
import { VIRTIO_NET_HDR_SIZE } from '@vnic/core/virtio_net';
import { VirtioNetDriver, type ReceivedFrame } from '@vnic/driver';
import { RX_ENGINE_ENV } from '@vnic/virtio-net';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupAfterEach, hostTapPeer, waitUntil } from '@vnic/sys/testing';
import { frameSeq, isTestFrame, OUTSIDE_MAC, testFrame } from '../../conformance/frames.ts';
import { netConfig } from '../../conformance/netConfig.ts';
import { TapNetns } from '../../fixtures/TapNetns.ts';

// RX in batches (RxUringBatch: many READVs in flight, one io_uring_enter) on a real tap. A burst
// of frames of mixed sizes, 64 B to 64 KiB (the tap's MTU raised to its maximum), from two flows
// interleaved, is injected while the guest is slower than the device, so frames pile up in the
// tap and are read many per batch: large ones go past their chain (MRG_RXBUF, 2 KiB buffers) and
// shift every later frame of their batch. Every frame must arrive intact, with the right
// num_buffers, in order per flow, none dropped; on both RX engines (io_uring and the readv
// fallback). Then the guest stops posting buffers while frames wait: the IO thread must sleep
// (its CPU compared with a thread spinning over the same window) and the frames resume, in order,
// when the guest posts buffers again.

const MAC = Uint8Array.of(0x52, 0x54, 0x00, 0x7e, 0x16, 0x01);
const OTHER_MAC = Uint8Array.of(0x02, 0x00, 0x00, 0x00, 0x00, 0x02);
const BUF = 2048;
const TAP_MAX_MTU = 65521;
const SIZES = [64, 1514, 65535, 60, 9000, 128, 32768, 64, 64, 4096, 1500, 65535, 200, 2036, 2037, 60];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function config(id: string): NetDeviceConfig {
  return netConfig('virtio-net', { id, mac: MAC, ctrlVq: false });
}

/** CPU seconds so far of each thread of this process (utime + stime of /proc/self/task/<tid>/stat). */
function threadCpu(): Map<number, number> {
  const tick = 100; // USER_HZ
  const out = new Map<number, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(Number(tid), (Number(f[11]) + Number(f[12])) / tick);
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

const peer = hostTapPeer();

describe.skipIf(peer.skip)('virtio-net backend: RX batches on a host kernel tap', () => {
  const cleanups = cleanupAfterEach(afterEach);

  async function setUp(id: string, rxBuffers?: number): Promise<{ nic: TapNetns; driver: VirtioNetDriver }> {
    if (peer.reason !== undefined) throw new Error(`host kernel tap peer missing: ${peer.reason}`);
    const nic = TapNetns.create(config(id), { packetSocket: true });
    cleanups.push(() => nic.close());
    nic.ns.ip('link', 'set', nic.tap, 'mtu', String(TAP_MAX_MTU), 'txqueuelen', '10000');
    const driver = await VirtioNetDriver.create({ device: nic.device, rxBufferSize: BUF, ...(rxBuffers === undefined ? {} : { rxBuffers }) });
    cleanups.push(() => driver.close());
    return { nic, driver };
  }

  /** The frames of the burst, two flows interleaved: [flow source MAC, seq, size]. */
  function burstFrames(count: number): Uint8Array[] {
    return Array.from({ length: count }, (_, i) => testFrame(MAC, i % 2 === 0 ? OUTSIDE_MAC : OTHER_MAC, i >> 1, SIZES[i % SIZES.length]!));
  }

  /** Sends `frames` (waiting while the packet socket is full) while collecting what the guest receives. */
  async function pump(n: TapNetns, d: VirtioNetDriver, frames: readonly Uint8Array[], timeoutMs: number): Promise<ReceivedFrame[]> {
    const got: ReceivedFrame[] = [];
    const deadline = Date.now() + timeoutMs;
    let sent = 0;
    while (got.length < frames.length && Date.now() < deadline) {
      while (sent < frames.length) {
        try {
          n.send(frames[sent]!);
        } catch (e) {
          if (e instanceof Error && e.message.includes('buffer full')) break;
          throw e;
        }
        sent++;
      }
      for (let f = d.tryReceive(); f !== undefined; f = d.tryReceive()) if (isTestFrame(f.frame)) got.push(f);
      await sleep(sent < frames.length ? 1 : 5);
    }
    return got;
  }

  function expectDelivered(frames: readonly Uint8Array[], got: readonly ReceivedFrame[]): void {
    expect(got.length, 'frames the guest received').toBe(frames.length);
    // Per flow, in the order sent; each intact, with num_buffers matching its size over 2 KiB buffers.
    for (const src of [OUTSIDE_MAC, OTHER_MAC]) {
      const flow = (f: Uint8Array): boolean => Buffer.compare(Buffer.from(f.subarray(6, 12)), Buffer.from(src)) === 0;
      const want = frames.filter(flow);
      const have = got.filter((g) => flow(g.frame));
      expect(have.map((g) => frameSeq(g.frame))).toEqual(want.map(frameSeq));
      for (const [i, g] of have.entries()) {
        expect(Buffer.compare(Buffer.from(g.frame), Buffer.from(want[i]!)), `frame ${i} of the flow, ${want[i]!.length} bytes`).toBe(0);
        expect(g.hdr.numBuffers).toBe(Math.ceil((want[i]!.length + VIRTIO_NET_HDR_SIZE) / BUF));
        expect(g.buffers).toBe(g.hdr.numBuffers);
      }
    }
  }

  for (const engine of ['io_uring', 'readv'] as const) {
    it(`${engine}: a burst of 64 B to 64 KiB frames from two flows arrives intact and in order per flow, none dropped`, async () => {
      const saved = process.env[RX_ENGINE_ENV];
      if (engine === 'readv') process.env[RX_ENGINE_ENV] = 'readv';
      try {
        const { nic: n, driver: d } = await setUp(`vnt-rxb-${engine === 'readv' ? 'rv' : 'ur'}`);
        const frames = burstFrames(480);
        const got = await pump(n, d, frames, 60_000);
        expectDelivered(frames, got);
        await waitUntil(() => n.device.stats()[0]!.packets === frames.length, 'the RX packets counter', 5000);
        expect(n.device.stats()[0]!.drops).toBe(0);
      } finally {
        if (saved === undefined) delete process.env[RX_ENGINE_ENV];
        else process.env[RX_ENGINE_ENV] = saved;
      }
    }, 90_000);
  }

  it('with no RX buffers posted the IO thread sleeps while frames wait, and they resume in order once buffers come', async () => {
    const before = new Set(threadCpu().keys());
    // 8 buffers of 2 KiB: the device fills them and then has none, with most of the burst waiting.
    const { nic: n, driver: d } = await setUp('vnt-rxb-stall', 8);
    const frames = burstFrames(64).map((f, i) => (f.length > 4000 ? testFrame(MAC, i % 2 === 0 ? OUTSIDE_MAC : OTHER_MAC, i >> 1, 1000) : f));
    for (const f of frames) n.send(f);
    // The frames the 8 buffers take, in order (one that needs more than what is left waits).
    let delivered = 0;
    for (let left = 8, i = 0; i < frames.length; i++, delivered++) {
      left -= Math.ceil((frames[i]!.length + VIRTIO_NET_HDR_SIZE) / BUF);
      if (left < 0) break;
    }
    expect(delivered).toBeLessThan(frames.length);
    await waitUntil(
      () => n.device.stats()[0]!.noBuffer > 0 && n.device.stats()[0]!.packets === delivered,
      'the 8 buffers filled and an RX no-buffer event',
      10_000,
    );
    // The threads the device started (the IO thread among them) against a thread that spins over the same window.
    const ioThreads = [...threadCpu().keys()].filter((t) => !before.has(t));
    expect(ioThreads.length).toBeGreaterThan(0);
    const spinner = new Worker('const end = Date.now() + 60000; while (Date.now() < end);', { eval: true });
    cleanups.push(() => spinner.terminate().then(() => {}));
    await sleep(200); // the spinner is running
    const cpu0 = threadCpu();
    const spinTid = [...cpu0.keys()].find((t) => !before.has(t) && !ioThreads.includes(t));
    expect(spinTid).toBeDefined();
    await sleep(1500);
    const cpu1 = threadCpu();
    const used = (t: number): number => (cpu1.get(t) ?? 0) - (cpu0.get(t) ?? 0);
    const spun = used(spinTid!);
    const io = ioThreads.reduce((s, t) => s + used(t), 0);
    expect(spun, 'CPU the spinning thread got (the window measured something)').toBeGreaterThan(0.05);
    expect(io, `CPU of the device's threads while stalled (a spinning thread got ${spun.toFixed(2)} s)`).toBeLessThan(spun / 10);
    expect(n.device.stats()[0]!.packets).toBe(delivered); // nothing moved meanwhile
    await spinner.terminate();
    const got: ReceivedFrame[] = [];
    const deadline = Date.now() + 30_000;
    while (got.length < frames.length && Date.now() < deadline) {
      const f = await d.receive(0, 1000); // takes a frame and posts its buffers again
      if (f !== undefined && isTestFrame(f.frame)) got.push(f);
    }
    expectDelivered(frames, got);
    expect(n.device.stats()[0]!.drops).toBe(0);
  }, 90_000);
});
