// Runs INSIDE the test VM (started by vhostNetBench through @vnic/testvm): measures 64-byte TX and
// RX packet rates of the vhost-net backend and of the in-process virtio-net backend with the same
// lean guest and the same tap setup (a tap in a fresh network namespace, IPv6 off, no address).
// The TS driver only negotiates and fills the rings; then the bench's RingRecycler keeps them full
// (each used head straight back into avail, polled, no per-frame JS work beyond that), so the rate
// is what the data plane (kernel vhost worker, or the in-process IO thread) sustains. TX: one frame
// in every slot, leaving into the namespace (where the kernel drops it). RX: the kernel's pktgen
// (module pktgen, loaded at boot) floods the tap with 64-byte frames from the namespace side: no
// syscall or user copy per frame, so unlike a user-space flooder (bench-c/packet_flood cost more
// CPU per frame than the vhost worker under TCG, and the row measured the flooder) it outruns the
// data plane; what the tap's queue has no room for is dropped and counted. Counted on the used
// ring, checked against the tap's counters. Each measurement also records its load check: TX, the
// guest's share of the wall time against the data plane's busiest thread; RX, the frames pktgen
// offered (queued + dropped on a full tap queue) against those queued.
// Backends alternate, `rounds` windows each. Prints one `VNIC_BENCH_RESULT {json}` line per
// window (rate, CPU per frame of the guest and of the data plane, load).
// Usage: tsx vhostNetBenchGuest.ts <seconds> <rounds> [tx|rx|both]
import { readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { NetDeviceConfig, VirtioNetDevice } from '@vnic/core';
import { VirtioNetDriver } from '@vnic/driver';
import { VhostNetDevice } from '@vnic/vhost-net';
import { shutdownIoThreads, VirtioNetTapDevice } from '@vnic/virtio-net';
import { Netns, uniqueName } from '@vnic/sys/testing';
import { benchNicConfig } from './benchNicConfig.ts';
import type { HeadroomSample } from './checkHeadroom.ts';
import { busiestThreads } from './virtioNet/busiestThreads.ts';
import type { GuestWindow } from './virtioNet/GuestWindow.ts';
import { parseStatCpu } from './virtioNet/parseStatCpu.ts';
import { RingRecycler } from './virtioNet/RingRecycler.ts';
import { runGuestWindow } from './virtioNet/runGuestWindow.ts';
import { threadCpu } from './virtioNet/threadCpu.ts';
import { Pktgen } from './vhostNet/Pktgen.ts';

type Backend = 'vhost-net' | 'virtio-net';
const MAC = Uint8Array.of(0x52, 0x54, 0x00, 0x7e, 0x50, 0x01);
const FRAME = 64;
const TX_QUEUE = 1;
/**
 * Ring size (the virtio-net bench's default): the polling guest sleeps 0.2 ms when nothing was
 * used, and a 256 ring (4 ms at 60 k frames/s under TCG) left the vhost worker waiting for the
 * guest's kick after each drained ring.
 */
const QUEUE_SIZE = 1024;
const RX_QUEUE = 0;

const seconds = Number(process.argv[2] ?? '3');
const rounds = Number(process.argv[3] ?? '5');
const which = process.argv[4] ?? 'both';

function config(backend: Backend, tap: string): NetDeviceConfig {
  return { ...benchNicConfig(`bench-${backend}`, backend, MAC, { tap }), queueSize: QUEUE_SIZE };
}

function open(backend: Backend, c: NetDeviceConfig): VirtioNetDevice & { tapName: string } {
  return backend === 'vhost-net' ? VhostNetDevice.open(c) : VirtioNetTapDevice.open(c);
}

async function withNic<T>(backend: Backend, body: (driver: VirtioNetDriver, ns: Netns, tap: string) => Promise<T>): Promise<T> {
  const ns = Netns.create('vnbh');
  let device: (VirtioNetDevice & { tapName: string }) | undefined;
  let driver: VirtioNetDriver | undefined;
  try {
    ns.exec('sysctl', '-qw', 'net.ipv6.conf.default.disable_ipv6=1', 'net.ipv6.conf.all.disable_ipv6=1');
    device = open(backend, config(backend, uniqueName('vnb')));
    ns.adopt(device.tapName);
    ns.ip('link', 'set', device.tapName, 'up');
    driver = await VirtioNetDriver.create({ device, queueSize: QUEUE_SIZE });
    return await body(driver, ns, device.tapName);
  } finally {
    await driver?.close();
    await device?.close();
    ns.delete();
  }
}

/** Kernel threads named `vhost-<pid>` (the vhost workers of this process's vhost-net devices). */
function vhostWorkers(): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === `vhost-${process.pid}`) out.push(pid);
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/** CPU seconds of: this process (all threads), its main thread (the guest), the vhost workers. */
function cpuNow(workers: readonly string[]): { all: number; main: number; vhost: number } {
  const stat = (path: string): number => parseStatCpu(readFileSync(path, 'utf8'));
  return {
    all: stat('/proc/self/stat'),
    main: stat(`/proc/self/task/${process.pid}/stat`),
    vhost: workers.reduce((sum, pid) => sum + stat(`/proc/${pid}/stat`), 0),
  };
}

/** The VM's busy and total CPU time from the first line of /proc/stat (in USER_HZ ticks). */
function vmCpu(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - f[3]! - f[4]!, total }; // idle and iowait are fields 4 and 5
}

/** Frames the tap's own counter saw, read inside the namespace. */
function tapCounter(ns: Netns, tap: string, counter: 'rx_packets' | 'tx_packets' | 'tx_dropped'): number {
  return Number(ns.exec('cat', `/sys/class/net/${tap}/statistics/${counter}`).trim());
}

interface Measured {
  readonly pps: number;
  /** CPU per frame in microseconds: guest (main thread), data plane (vhost worker or the other threads). */
  readonly guestUs: number;
  readonly dataPlaneUs: number;
  readonly note: string;
  /** What the window saw of its load (vhostNetBench checks it). */
  readonly load: HeadroomSample;
}

/** `comm(tid) N%` of the busiest threads. */
function formatThreads(threads: ReturnType<typeof busiestThreads>): string {
  return threads
    .slice(0, 4)
    .map((t) => `${t.comm}(${t.tid}) ${Math.round(100 * t.busy)}%`)
    .join(', ');
}

/**
 * Runs the recycler's window and the CPU accounting around it; `deviceBusy` is the data plane's
 * busiest thread (the vhost worker, or the IO thread) over the window, `guestBusy` the main thread.
 */
async function measure(
  backend: Backend,
  rec: RingRecycler,
): Promise<{ w: GuestWindow; guestUs: number; dataPlaneUs: number; threads: string; guestBusy: number; deviceBusy: number }> {
  const workers = backend === 'vhost-net' ? vhostWorkers() : [];
  const t0 = threadCpu();
  const v0 = vmCpu();
  const wall0 = performance.now();
  // The window reads `rec.elements` (the used ring: what the device consumed or delivered); CPU
  // is read around the whole window call (warm-up included) and divided by the frames it covered.
  const c0 = cpuNow(workers);
  const w = await runGuestWindow(rec, { warmupMs: 500, seconds, counter: () => rec.elements, interrupted: () => false });
  const c1 = cpuNow(workers);
  const v1 = vmCpu();
  const wallS = (performance.now() - wall0) / 1000;
  const vmBusy = (100 * (v1.busy - v0.busy)) / Math.max(1, v1.total - v0.total);
  const busiest = busiestThreads(t0, threadCpu(), wallS);
  const threads = `${formatThreads(busiest)}; the VM's vCPUs ${Math.round(vmBusy)}% busy`;
  const frames = Math.max(1, w.totalPackets);
  const main = c1.main - c0.main;
  const plane = backend === 'vhost-net' ? c1.vhost - c0.vhost : c1.all - c0.all - main;
  // One vhost worker per device (this bench opens one); the in-process IO thread is the busiest other thread.
  const deviceBusy = backend === 'vhost-net' ? (c1.vhost - c0.vhost) / wallS : (busiest.find((t) => t.tid !== process.pid)?.busy ?? 0);
  return { w, guestUs: (main * 1e6) / frames, dataPlaneUs: (plane * 1e6) / frames, threads, guestBusy: main / wallS, deviceBusy };
}

/**
 * Frames per second the backend took from the TX ring: the driver fills the ring once with one
 * frame, then the RingRecycler puts each used head straight back (no per-frame driver work).
 */
async function tx(backend: Backend): Promise<Measured> {
  return withNic(backend, async (driver, ns, tap) => {
    const f = new Uint8Array(FRAME);
    f.set([0x02, 0, 0, 0, 0x50, 0x02], 0); // to a MAC nobody has: the namespace drops it at once
    f.set(MAC, 6);
    f[12] = 0x88;
    f[13] = 0xb5;
    const before = tapCounter(ns, tap, 'rx_packets');
    const posted = driver.sendBatch(new Array<Uint8Array>(driver.queueSize).fill(f));
    if (posted !== driver.queueSize) throw new Error(`posted ${posted} of ${driver.queueSize} TX chains`);
    const rec = new RingRecycler(driver.memory, driver.queue(TX_QUEUE), () => driver.kick(TX_QUEUE));
    const { w, guestUs, dataPlaneUs, threads, guestBusy, deviceBusy } = await measure(backend, rec);
    await new Promise((r) => setTimeout(r, 100)); // the device finishes the chains in flight
    const tapGot = tapCounter(ns, tap, 'rx_packets') - before;
    // Every chain the device used must have reached the tap (nothing dropped on the way).
    if (tapGot < rec.elements) throw new Error(`${backend} TX: the used ring returned ${rec.elements} chains but the tap received only ${tapGot}`);
    return {
      pps: w.packets / w.seconds,
      guestUs,
      dataPlaneUs,
      note: `tap got ${tapGot} frames, used ring ${rec.elements}, ${rec.kicks} kicks; busiest threads: ${threads}`,
      load: { sourceBusy: guestBusy, deviceBusy },
    };
  });
}

/**
 * Frames per second the backend delivered into the RX ring while pktgen flooded the tap with
 * 64-byte frames: the RingRecycler hands each filled buffer straight back (the guest never reads it).
 */
async function rx(backend: Backend): Promise<Measured> {
  return withNic(backend, async (driver, ns, tap) => {
    const rec = new RingRecycler(driver.memory, driver.queue(RX_QUEUE), () => driver.kick(RX_QUEUE));
    const gen = Pktgen.start(ns, tap, FRAME, MAC);
    try {
      // Wait for the first frame (pktgen started), then measure.
      const deadline = performance.now() + 20_000;
      while (rec.pump() === 0) {
        if (performance.now() > deadline || !gen.running) throw new Error(`${backend} RX: no frame from pktgen within 20 s`);
        await new Promise((r) => setTimeout(r, 5));
      }
      const before = {
        queued: tapCounter(ns, tap, 'tx_packets'),
        dropped: tapCounter(ns, tap, 'tx_dropped'),
        sent: gen.sent(),
        bytes: rec.bytes,
        elements: rec.elements,
      };
      const { w, guestUs, dataPlaneUs, threads, deviceBusy } = await measure(backend, rec);
      const queued = tapCounter(ns, tap, 'tx_packets') - before.queued;
      const dropped = tapCounter(ns, tap, 'tx_dropped') - before.dropped;
      const sent = gen.sent() - before.sent;
      if (rec.zeroLength > 0) throw new Error(`${backend} RX: ${rec.zeroLength} used buffers came back empty`);
      const perFrame = (rec.bytes - before.bytes) / Math.max(1, rec.elements - before.elements);
      return {
        pps: w.packets / w.seconds,
        guestUs,
        dataPlaneUs,
        note: `pktgen handed the tap ${sent} frames: ${queued} queued, ${dropped} dropped on a full queue; the ring got ${rec.elements} (${perFrame.toFixed(0)} bytes used per buffer, vnet header included); busiest threads: ${threads}`,
        load: { offered: queued + dropped, measured: queued, deviceBusy },
      };
    } finally {
      await gen.stop();
    }
  });
}

for (const [metric, fn] of [
  ['tx-64B-mpps', tx],
  ['rx-64B-mpps', rx],
] as const) {
  if (which !== 'both' && !metric.startsWith(which)) continue;
  // Alternating, so a slow phase of the (shared, emulated) machine hits both backends alike.
  for (let round = 1; round <= rounds; round++) {
    for (const backend of ['vhost-net', 'virtio-net'] as const) {
      const m = await fn(backend);
      process.stdout.write(`VNIC_BENCH_RESULT ${JSON.stringify({ metric, backend, round, ...m })}\n`);
    }
  }
}
await shutdownIoThreads();
