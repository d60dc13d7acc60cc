import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { containerBackends, createNetDevices, createVnicContainer } from '@vnic/config';
import { featureBit, VIRTIO_F_EVENT_IDX, VIRTIO_F_VERSION_1, virtio_net, type VirtioNetDevice } from '@vnic/core';
import { formatMac, VirtioNetDriver, type RingLayout } from '@vnic/driver';
import { sqPollThreads } from '@vnic/sys';
import { fdCount } from '@vnic/sys/testing';
import { CliError } from '../CliError.ts';
import { Cleanup } from '../demo/Cleanup.ts';
import type { LinkCounters } from '../netns/LinkCounters.ts';
import { Netns } from '../netns/Netns.ts';
import { netnsSupport } from '../netns/netnsSupport.ts';
import { uniqueName } from '../netns/uniqueName.ts';
import type { Bench } from './Bench.ts';
import type { BenchContext } from './BenchContext.ts';
import type { BenchRow } from './BenchRow.ts';
import { checkHeadroom, type HeadroomSample } from './checkHeadroom.ts';
import { combineLoads } from './combineLoads.ts';
import type { Headroom } from './Headroom.ts';
import { makeBenchRow } from './makeBenchRow.ts';
import { wantsRow } from './wantsRow.ts';
import { benchFrame } from './virtioNet/benchFrame.ts';
import { busiestThreads } from './virtioNet/busiestThreads.ts';
import { ioHeapMeter } from './virtioNet/ioHeapMeter.ts';
import { dirtyLogSides } from './virtioNet/dirtyLogSides.ts';
import { BenchProcess } from './virtioNet/BenchProcess.ts';
import { ccUnavailable } from './virtioNet/ccUnavailable.ts';
import { compileBenchC } from './virtioNet/compileBenchC.ts';
import { EchoGuest } from './virtioNet/EchoGuest.ts';
import { echoRequestFrame, type EchoPath } from './virtioNet/echoRequestFrame.ts';
import { isEchoReply } from './virtioNet/isEchoReply.ts';
import { percentile } from './virtioNet/percentile.ts';
import type { GuestWindow } from './virtioNet/GuestWindow.ts';
import { parseStatCpu } from './virtioNet/parseStatCpu.ts';
import { parseResultLine } from './virtioNet/parseResultLine.ts';
import { manyNicsRows } from './virtioNet/manyNicsRows.ts';
import { txRecycler } from './virtioNet/txRecycler.ts';
import type { PackedRingRecycler } from './virtioNet/PackedRingRecycler.ts';
import { RingRecycler } from './virtioNet/RingRecycler.ts';
import { runGuestWindow } from './virtioNet/runGuestWindow.ts';
import { summarizeRounds } from './virtioNet/summarizeRounds.ts';
import { threadCpu } from './virtioNet/threadCpu.ts';
import type { VirtioNetBenchOptions } from './virtioNet/VirtioNetBenchOptions.ts';

const BENCH = 'virtio-net';
const N = virtio_net;
/** What the bench guest negotiates: a Linux guest on a tap without offloads (so TUNSETOFFLOAD 0, as the C reference). */
const GUEST_FEATURES = [VIRTIO_F_VERSION_1, VIRTIO_F_EVENT_IDX, N.VIRTIO_NET_F_MAC, N.VIRTIO_NET_F_MRG_RXBUF].reduce((m, b) => m | featureBit(b), 0n);
const GUEST_MAC = '52:54:00:be:00:01';
/** The far end's MAC in the frames (a locally administered address no interface has). */
const PEER_MAC = Uint8Array.of(0x02, 0x00, 0x00, 0xbe, 0x00, 0x02);
/** How long the RTT guest polls its used ring before it blocks on the call eventfd (a busy-polling guest, net.core.busy_poll=50). */
const RTT_GUEST_SPIN_US = 50;
const TX_QUEUE = 1;
const RX_QUEUE = 0;

/** What one window of one side measured. */
interface WindowResult {
  /** Frames per second over the window. */
  readonly pps: number;
  /** CPU microseconds per frame of the data plane (warm-up and window): vnic's threads besides the guest, or the C process. */
  readonly cpuUs: number;
  /** CPU microseconds per frame of the bench guest (vnic only). */
  readonly guestUs?: number;
  /** What the window saw of its load (sides with a source of their own: vnic TX, both RX sides). */
  readonly load?: HeadroomSample;
}

/** What one RTT window of one side measured (microseconds; `lost`: requests without a reply within 1 s). */
interface RttWindow {
  readonly p50: number;
  readonly p99: number;
  readonly samples: number;
  readonly lost: number;
}

/** One side of a comparison, set up once: each window() measures one window; finish() checks and describes. */
interface Side<W = WindowResult> {
  window(): Promise<W>;
  finish(): Promise<string>;
}

/** A vnic side with its NIC (the dirty-log rows start and stop logging on it). */
type VnicSide = Side & { readonly device: VirtioNetDevice; readonly driver: VirtioNetDriver };

/** The windows one side ran and what its counters said. */
interface Measured<W = WindowResult> {
  readonly windows: readonly W[];
  readonly note: string;
}

/** Everything one run shares: options, the namespace, the compiled programs, the cleanup list. */
interface Run {
  readonly ctx: BenchContext;
  readonly seconds: number;
  readonly warmupS: number;
  readonly rounds: number;
  readonly queueSize: number;
  readonly cleanup: Cleanup;
  readonly ns: Netns;
  readonly programs: { readonly tap_ref: string; readonly packet_flood: string };
  readonly interrupted: () => boolean;
}

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
const mpps = (pps: number): number => pps / 1e6;
const round = (v: number, digits = 3): number => Number(v.toFixed(digits));
const macBytes = (mac: string): Uint8Array => Uint8Array.from(mac.split(':').map((h) => parseInt(h, 16)));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A `net[]` entry for one bench NIC: one queue pair, the bench's queue size, a tap of its own. */
function nicEntry(queueSize: number, id: string, tap: string, mac = GUEST_MAC, options: Record<string, unknown> = {}): Record<string, unknown> {
  return { id, backend: BENCH, mac, queuePairs: 1, queueSize, 'virtio-net': { tap, ...options } };
}

/** Runs `body` with a cleanup list of its own, run when it ends and also by the run's cleanup (Ctrl-C). */
async function scoped<T>(run: Pick<Run, 'ctx' | 'cleanup'>, label: string, body: (local: Cleanup) => Promise<T>): Promise<T> {
  const local = new Cleanup();
  run.cleanup.add(label, () => local.runAll());
  try {
    return await body(local);
  } finally {
    const lines = await local.runAll();
    const failed = lines.filter((l) => l.includes('FAILED'));
    if (failed.length > 0) run.ctx.progress(`cleanup after ${label}: ${failed.join(', ')}`);
  }
}

/** Builds NICs through @vnic/config (as a VMM does) and activates each with a VirtioNetDriver as its guest. */
async function openNics(
  run: Pick<Run, 'ctx' | 'queueSize'>,
  local: Cleanup,
  entries: readonly Record<string, unknown>[],
  ring: RingLayout = 'split',
): Promise<{ device: VirtioNetDevice; driver: VirtioNetDriver }[]> {
  const container = createVnicContainer(run.ctx.io.backendModules());
  const devices = await createNetDevices({ net: entries }, { container, source: 'vnic bench virtio-net', onWarning: (m) => run.ctx.progress(`warning: ${m}`) });
  for (const d of devices) local.add(`device ${d.id} closed`, () => d.close());
  const out: { device: VirtioNetDevice; driver: VirtioNetDriver }[] = [];
  for (const device of devices) {
    const driver = await VirtioNetDriver.create({ device, features: GUEST_FEATURES, queuePairs: 1, queueSize: run.queueSize, ring });
    local.add(`driver of ${device.id} closed`, () => driver.close());
    out.push({ device, driver });
  }
  return out;
}

/** One bench NIC on tap `tap`. */
async function openNic(run: Run, local: Cleanup, tap: string, ring: RingLayout = 'split'): Promise<{ device: VirtioNetDevice; driver: VirtioNetDriver }> {
  const [nic] = await openNics(run, local, [nicEntry(run.queueSize, 'bench0', tap)], ring);
  return nic!;
}

/** CPU seconds of this process and of its main thread (the bench guest runs there). */
function selfCpu(): { process: number; main: number } {
  return { process: parseStatCpu(readFileSync('/proc/self/stat', 'utf8')), main: parseStatCpu(readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8')) };
}

/**
 * Runs the bench guest for one window and accounts CPU: the main thread is the guest, every other
 * thread of the process the device. `load` is the guest's share of the wall time (the TX source)
 * against the busiest other thread's (the device's IO thread).
 */
async function vnicWindow(run: Run, rec: RingRecycler | PackedRingRecycler, counter: () => number): Promise<{ w: GuestWindow; result: WindowResult }> {
  const t0 = threadCpu();
  const wall0 = performance.now();
  const c0 = selfCpu();
  const w = await runGuestWindow(rec, { warmupMs: run.warmupS * 1000, seconds: run.seconds, counter, interrupted: run.interrupted });
  const c1 = selfCpu();
  const threads = busiestThreads(t0, threadCpu(), (performance.now() - wall0) / 1000);
  const frames = Math.max(1, w.totalPackets);
  const guest = c1.main - c0.main;
  const device = c1.process - c0.process - guest;
  const load = { sourceBusy: threads.find((t) => t.tid === process.pid)?.busy ?? 0, deviceBusy: threads.find((t) => t.tid !== process.pid)?.busy ?? 0 };
  return { w, result: { pps: w.packets / w.seconds, cpuUs: (device * 1e6) / frames, guestUs: (guest * 1e6) / frames, load } };
}

/** CPU seconds of the C reference process so far. */
function childCpu(p: BenchProcess): number {
  return parseStatCpu(readFileSync(`/proc/${p.pid}/stat`, 'utf8'));
}

function packetsOf(device: VirtioNetDevice, queue: number): number {
  return device.stats().find((s) => s.index === queue)?.packets ?? 0;
}

function dropsOf(device: VirtioNetDevice, queue: number): number {
  return device.stats().find((s) => s.index === queue)?.drops ?? 0;
}

/** Moves `tap` into the bench namespace and brings it up (the kernel side of every measurement). */
async function plugTap(run: Run, tap: string): Promise<void> {
  await run.ns.moveLink(tap);
  await run.ns.setUp(tap);
}

/** Fails loudly when the tap saw fewer frames than the writer claims: the numbers would be wrong. */
function checkTapCount(what: string, claimed: number, tapCounted: number): void {
  if (tapCounted < claimed) {
    throw new CliError(
      'invalid-state',
      `${what}: the writer counted ${claimed} frames but the tap received only ${tapCounted}: the measurement is not trustworthy`,
    );
  }
}

// ---- TX: guest -> tap ---------------------------------------------------------------------------

/** The vnic side of a TX metric: a NIC whose guest keeps its TX ring full of one frame. */
async function openVnicTx(run: Run, local: Cleanup, frameLen: number, ring: RingLayout = 'split', sqPoll = false): Promise<VnicSide> {
  const tap = uniqueName('vnbt');
  const entry = nicEntry(run.queueSize, 'bench0', tap, GUEST_MAC, sqPoll ? { txSqPoll: true } : {});
  const [{ device, driver }] = (await openNics(run, local, [entry], ring)) as [{ device: VirtioNetDevice; driver: VirtioNetDriver }];
  await plugTap(run, tap);
  const frame = benchFrame(frameLen, PEER_MAC, driver.readConfig().mac);
  const before = await run.ns.linkStats(tap);
  const devBefore = packetsOf(device, TX_QUEUE);
  // A full ring of the same frame; from then on the recycler keeps it full while a window runs.
  const posted = driver.sendBatch(new Array<Uint8Array>(driver.queueSize).fill(frame));
  if (posted !== driver.queueSize) throw new CliError('invalid-state', `bench guest: posted ${posted} of ${driver.queueSize} TX chains`);
  const rec = txRecycler(driver, ring, frameLen);
  // The IO thread maps its io_uring when its job starts (VNIC_VIRTIO_NET_TX=writev or a kernel
  // without io_uring: none); this NIC is the only one open now.
  const engine = fdCount.anonInodes('io_uring') > 0 ? (sqPollThreads() > 0 ? 'io_uring SQPOLL' : 'io_uring') : 'writev';
  const heap = ioHeapMeter(device);
  return {
    device,
    driver,
    window: async () =>
      (
        await heap.measure(
          () => vnicWindow(run, rec, () => packetsOf(device, TX_QUEUE)),
          (o) => o.w.totalPackets,
        )
      ).result,
    finish: async () => {
      await sleep(50); // the device finishes the chains in flight
      const after = await run.ns.linkStats(tap);
      const devTotal = packetsOf(device, TX_QUEUE) - devBefore;
      const tapTotal = after.rx.packets - before.rx.packets;
      checkTapCount('vnic TX', devTotal, tapTotal);
      const drops = dropsOf(device, TX_QUEUE);
      return `TX engine ${engine}; tap got ${tapTotal}/${devTotal} frames the device sent${drops > 0 ? `, device drops ${drops}` : ''}, ${rec.kicks} kicks; ${heap.note()}`;
    },
  };
}

/** The reference side of a TX metric: tap_ref write, one window per line on its stdin. */
async function openCTx(run: Run, local: Cleanup, frameLen: number): Promise<Side> {
  const tap = uniqueName('vnbc');
  const frame = benchFrame(frameLen, PEER_MAC, macBytes(GUEST_MAC));
  const p = new BenchProcess('the C writev loop (tap_ref write)', run.programs.tap_ref, ['write', tap, hex(frame), String(run.warmupS), String(run.seconds)]);
  local.add('C writev loop stopped', () => p.kill());
  await p.waitForLine((l) => l === `ready ${tap}`, 10_000, `"ready ${tap}"`);
  await plugTap(run, tap);
  const before = await run.ns.linkStats(tap);
  let windows = 0;
  let claimed = 0;
  return {
    window: async () => {
      const cpu0 = childCpu(p);
      p.writeLine('go');
      await p.waitForLine((l) => l.startsWith('{'), (run.warmupS + run.seconds) * 1000 + 15_000, 'its result', ++windows);
      const cpu = childCpu(p) - cpu0;
      const r = parseResultLine(p.stdout, ['packets', 'seconds', 'errors', 'all'] as const, p.what);
      if (r.seconds <= 0 || r.packets === 0) throw new CliError('command-failed', `${p.what} wrote nothing (${r.errors} writev errors)`);
      claimed += r.packets;
      return { pps: r.packets / r.seconds, cpuUs: (cpu * 1e6) / Math.max(1, r.all) };
    },
    finish: async () => {
      const after = await run.ns.linkStats(tap);
      const tapTotal = after.rx.packets - before.rx.packets;
      checkTapCount('C TX', claimed, tapTotal);
      p.closeStdin();
      await p.finish(5000);
      return `tap got ${tapTotal} frames (${claimed} in the windows)`;
    },
  };
}

// ---- RTT: guest -> the namespace's kernel -> guest, one request in flight -------------------------

/** The addresses of RTT tap number `n` (each tap gets a /24 of its own in the namespace). */
function echoPath(n: number): EchoPath {
  return { guestMac: macBytes(GUEST_MAC), guestIp: `10.77.${n}.2`, nsMac: Uint8Array.of(0x02, 0, 0, 0xbe, n, 0x01), nsIp: `10.77.${n}.1` };
}

/** Moves `tap` into the namespace with the namespace side of `path`: its MAC, its address, a permanent neighbour entry for the guest. */
async function plugEchoTap(run: Run, tap: string, path: EchoPath): Promise<void> {
  await run.ns.moveLink(tap);
  await run.ns.ip('link', 'set', 'dev', tap, 'address', formatMac(path.nsMac));
  await run.ns.setUp(tap);
  await run.ns.addAddress(tap, `${path.nsIp}/24`);
  await run.ns.ip('neigh', 'replace', path.guestIp, 'lladdr', formatMac(path.guestMac), 'dev', tap, 'nud', 'permanent');
}

/** p50/p99 of one window's samples (microseconds); throws when no request was answered. */
function rttWindow(what: string, samples: number[], lost: number): RttWindow {
  if (samples.length === 0) throw new CliError('command-failed', `${what}: no echo request was answered (${lost} lost)`);
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 0.5), p99: percentile(samples, 0.99), samples: samples.length, lost };
}

/**
 * The vnic side of RTT: a lean guest (EchoGuest) sends one ICMP echo request, polls its RX used
 * ring for the reply and only then sends the next, as the C loop does over its tap. It owns the
 * main thread while a window runs (as the C loop owns its process) and does a few loads and stores
 * per round trip: the request's buffer rewritten in place, the frames checked where they lie, the
 * buffers posted straight back; so the row measures the device, not the TypeScript driver (whose
 * send + receiveSync cost about 1 us more per round trip here, copying and parsing each frame).
 * One round trip through VirtioNetDriver first checks the path and leaves the buffer to reuse.
 */
async function openVnicRtt(run: Run, local: Cleanup): Promise<Side<RttWindow>> {
  const tap = uniqueName('vnbp');
  const path = echoPath(1);
  const { driver } = await openNic(run, local, tap);
  await plugEchoTap(run, tap, path);
  const first = echoRequestFrame(path, 0);
  if (!driver.send(first)) throw new CliError('invalid-state', 'vnic RTT: the TX ring is full before the first request');
  let answered = false;
  for (const end = performance.now() + 5000; !answered && performance.now() < end;) {
    const r = driver.receiveSync(0, 1000, RTT_GUEST_SPIN_US);
    answered = r !== undefined && isEchoReply(r.frame, 0);
  }
  if (!answered) throw new CliError('command-failed', 'vnic RTT: the first echo request got no reply in 5 s');
  await driver.flushTx();
  driver.reclaim();
  const guest = new EchoGuest(
    driver.memory,
    driver.queue(TX_QUEUE),
    driver.queue(RX_QUEUE),
    first,
    () => driver.kick(TX_QUEUE),
    () => driver.kick(RX_QUEUE),
  );
  let seq = 0;
  let samplesTotal = 0;
  let lostTotal = 0;
  return {
    window: async () => {
      const samples: number[] = [];
      let lost = 0;
      const start = performance.now() + run.warmupS * 1000;
      const end = start + run.seconds * 1000;
      let yielded = performance.now();
      for (let now = performance.now(); now < end;) {
        if (run.interrupted()) throw new CliError('interrupted', 'interrupted');
        seq = (seq + 1) & 0xffff;
        const sentAt = performance.now();
        guest.send(seq);
        const got = guest.awaitReply(seq, 1000);
        now = performance.now();
        if (now - yielded > 20) {
          await new Promise<void>((resolve) => setImmediate(resolve)); // signals, child output (outside the sample)
          yielded = performance.now();
        }
        if (sentAt < start) continue;
        if (got) samples.push((now - sentAt) * 1000);
        else lost++;
      }
      samplesTotal += samples.length;
      lostTotal += lost;
      return rttWindow('vnic RTT', samples, lost);
    },
    finish: async () =>
      `a lean guest (EchoGuest: the request rewritten in place, the RX used ring polled with a sched_yield every 2 us, the reply checked where it lies; ${guest.kicks} kicks), ${samplesTotal} round trips, ${lostTotal} lost`,
  };
}

/** The reference side of RTT: tap_ref ping (writev the request, block in poll() on the reply) on an identical tap. */
async function openCRtt(run: Run, local: Cleanup): Promise<Side<RttWindow>> {
  const tap = uniqueName('vnbq');
  const path = echoPath(2);
  const p = new BenchProcess('the C echo loop (tap_ref ping)', run.programs.tap_ref, [
    'ping',
    tap,
    hex(echoRequestFrame(path, 1)),
    String(run.warmupS),
    String(run.seconds),
  ]);
  local.add('C echo loop stopped', () => p.kill());
  await p.waitForLine((l) => l === `ready ${tap}`, 10_000, `"ready ${tap}"`);
  await plugEchoTap(run, tap, path);
  let windows = 0;
  let samplesTotal = 0;
  let lostTotal = 0;
  return {
    window: async () => {
      p.writeLine('go');
      await p.waitForLine((l) => l.startsWith('{'), (run.warmupS + run.seconds) * 1000 + 15_000, 'its result', ++windows);
      const r = parseResultLine(p.stdout, ['samples', 'p50', 'p99', 'lost'] as const, p.what);
      if (r.samples === 0) throw new CliError('command-failed', `${p.what}: no echo request was answered (${r.lost} lost)`);
      samplesTotal += r.samples;
      lostTotal += r.lost;
      return r;
    },
    finish: async () => {
      p.closeStdin();
      await p.finish(5000);
      return `${samplesTotal} round trips, ${lostTotal} lost`;
    },
  };
}

/** The two RTT rows (p50, p99): the median over the windows of each window's percentile. */
function rttRows(run: Run, m: { vnic: Measured<RttWindow>; ref: Measured<RttWindow> }): BenchRow[] {
  return (['p50', 'p99'] as const).map((q) => {
    const v = summarizeRounds(m.vnic.windows.map((w) => w[q]));
    const c = summarizeRounds(m.ref.windows.map((w) => w[q]));
    const spread = (s: { min: number; max: number }): string => `${round(s.min, 1)}..${round(s.max, 1)}`;
    const note = `median of ${run.rounds} windows' ${q} over ${run.seconds} s each (vnic ${spread(v)}, C ${spread(c)}); ICMP echo to the namespace's kernel, one request in flight; vnic: ${m.vnic.note}; C: ${m.ref.note}`;
    return makeBenchRow(BENCH, `rtt-64B-${q}-us`, 'us', round(v.median, 1), round(c.median, 1), {
      referenceName: 'C writev + poll loop',
      note,
      noLoad: 'a closed loop, one request in flight',
    });
  });
}

// ---- RX: tap -> guest ---------------------------------------------------------------------------

/**
 * Runs `body` while the traffic source sends `frame` out of `tap` (inside the namespace); returns
 * what `body` returned and the source's side of the load check: from the tap's own counters over
 * the flood, the frames it offered (queued for the reader + dropped on a full queue) against those
 * queued, and the share of its run it did not spend backing off on a full queue (waiting for the
 * reader; time it lost to other threads for a CPU is not headroom, so CPU time is not the measure).
 */
async function withFlood<T>(
  run: Run,
  tap: string,
  frame: Uint8Array,
  body: () => Promise<T>,
  pps?: number,
): Promise<{ out: T; load: Required<Pick<HeadroomSample, 'offered' | 'measured' | 'sourceBusy'>> }> {
  const flood = new BenchProcess('the traffic source (packet_flood in the namespace)', 'ip', [
    'netns',
    'exec',
    run.ns.name,
    run.programs.packet_flood,
    tap,
    hex(frame),
    ...(pps === undefined ? [] : [String(pps)]),
  ]);
  run.cleanup.add('traffic source stopped', () => flood.kill());
  try {
    const before = await run.ns.linkStats(tap);
    await flood.waitForLine((l) => l === 'ready', 10_000, '"ready"');
    const out = await body();
    flood.signal('SIGTERM');
    await flood.finish(5000);
    const r = parseResultLine(flood.stdout, ['sent', 'seconds', 'waited'] as const, flood.what);
    const sourceBusy = r.seconds > 0 ? Math.max(0, 1 - r.waited / r.seconds) : 1;
    const after = await run.ns.linkStats(tap);
    const queued = after.tx.packets - before.tx.packets;
    return { out, load: { offered: queued + after.tx.dropped - before.tx.dropped, measured: queued, sourceBusy } };
  } finally {
    await flood.kill();
  }
}

/** What the tap's own counters say about an RX side: how much the source got in, how much the full queue dropped. */
async function rxTapNote(run: Run, tap: string, before: { tx: LinkCounters }, seconds: number): Promise<string> {
  const after = await run.ns.linkStats(tap);
  const queued = after.tx.packets - before.tx.packets;
  const dropped = after.tx.dropped - before.tx.dropped;
  return `source got ${round(mpps(queued / seconds), 2)} Mpps into the tap queue, ${dropped} dropped on a full queue`;
}

/** The vnic side of RX: a NIC whose guest recycles every RX buffer the device fills. */
async function openVnicRx(run: Run, local: Cleanup): Promise<VnicSide> {
  const tap = uniqueName('vnbr');
  const { device, driver } = await openNic(run, local, tap);
  await plugTap(run, tap);
  const frame = benchFrame(64, driver.readConfig().mac, PEER_MAC);
  const rec = new RingRecycler(driver.memory, driver.queue(RX_QUEUE), () => driver.kick(RX_QUEUE));
  const before = await run.ns.linkStats(tap);
  const heap = ioHeapMeter(device);
  let flooded = 0;
  return {
    device,
    driver,
    window: async () => {
      const t0 = performance.now();
      const {
        out: { w, result },
        load,
      } = await withFlood(run, tap, frame, () =>
        heap.measure(
          () => vnicWindow(run, rec, () => packetsOf(device, RX_QUEUE)),
          (o) => o.w.totalPackets,
        ),
      );
      flooded += (performance.now() - t0) / 1000;
      if (w.guestElements < w.packets - driver.queueSize) {
        throw new CliError('invalid-state', `vnic RX: the device counted ${w.packets} frames but the guest found only ${w.guestElements} in its ring`);
      }
      return { ...result, load: { ...load, deviceBusy: result.load?.deviceBusy ?? 0 } }; // the source is the flooder, not the guest
    },
    finish: async () => {
      const s = device.stats().find((q) => q.index === RX_QUEUE);
      const dev = s === undefined ? '' : `; device: noBuffer ${s.noBuffer}, drops ${s.drops}, filtered ${s.filtered}`;
      return `${await rxTapNote(run, tap, before, flooded)}${dev}; ${heap.note()}`;
    },
  };
}

/** The reference side of RX: tap_ref read, fed by the same source. */
async function openCRx(run: Run, local: Cleanup): Promise<Side> {
  const tap = uniqueName('vnbd');
  const frame = benchFrame(64, macBytes(GUEST_MAC), PEER_MAC);
  const p = new BenchProcess('the C read loop (tap_ref read)', run.programs.tap_ref, ['read', tap, '-', String(run.warmupS), String(run.seconds)]);
  local.add('C read loop stopped', () => p.kill());
  await p.waitForLine((l) => l === `ready ${tap}`, 10_000, `"ready ${tap}"`);
  await plugTap(run, tap);
  const before = await run.ns.linkStats(tap);
  let windows = 0;
  let flooded = 0;
  return {
    window: async () => {
      const t0 = performance.now();
      let cpu = 0;
      let wall = 0;
      const { out: r, load } = await withFlood(run, tap, frame, async () => {
        const cpu0 = childCpu(p);
        const w0 = performance.now();
        p.writeLine('go');
        await p.waitForLine((l) => l.startsWith('{'), (run.warmupS + run.seconds) * 1000 + 15_000, 'its result', ++windows);
        cpu = childCpu(p) - cpu0;
        wall = (performance.now() - w0) / 1000;
        return parseResultLine(p.stdout, ['packets', 'seconds', 'errors', 'all'] as const, p.what);
      });
      flooded += (performance.now() - t0) / 1000;
      if (r.seconds <= 0 || r.packets === 0) throw new CliError('command-failed', `${p.what} read nothing (${r.errors} read errors)`);
      return { pps: r.packets / r.seconds, cpuUs: (cpu * 1e6) / Math.max(1, r.all), load: { ...load, deviceBusy: cpu / wall } };
    },
    finish: async () => {
      const note = await rxTapNote(run, tap, before, flooded);
      p.closeStdin();
      await p.finish(5000);
      return note;
    },
  };
}

// ---- RX notifications: coalescing (rx max_packets 32) vs none ------------------------------------

/**
 * The irq-per-frame row's source: frames one at a time at this rate (a stream a guest takes an
 * interrupt per frame for; a flood is batched by the device anyway, about one per 64 frames).
 */
const IRQ_PPS = 10_000;
/** Coalescing of its vnic side: rx max_packets 32, max_usecs 20 ms (32 frames take 3.2 ms at IRQ_PPS: max_packets comes first). */
const IRQ_COALESCING = { rx: { maxPackets: 32, maxUsecs: 20_000 } };

/** What one window of the irq-per-frame row saw: notifications (call eventfd writes) and frames received. */
interface IrqWindow {
  readonly perFrame: number;
  readonly frames: number;
  readonly notifications: number;
  readonly load: HeadroomSample;
}

/**
 * One side of irq-per-frame: a NIC (with `coalescing` or without) whose guest recycles every RX
 * buffer and asks for an interrupt on each (no EVENT_IDX, VIRTQ_AVAIL_F_NO_INTERRUPT clear), so
 * every notification the device decides on is a call eventfd write the driver counts; fed by the
 * RX source paced at IRQ_PPS. A window is the source's warm-up plus window: notifications / frames.
 */
async function openIrqRx(run: Run, local: Cleanup, coalesced: boolean): Promise<Side<IrqWindow>> {
  const tap = uniqueName(coalesced ? 'vnbi' : 'vnbj');
  const entry = {
    ...nicEntry(run.queueSize, coalesced ? 'benchirq1' : 'benchirq0', tap),
    eventIdx: false,
    ...(coalesced ? { coalescing: IRQ_COALESCING } : {}),
  };
  const [{ device, driver }] = (await openNics(run, local, [entry])) as [{ device: VirtioNetDevice; driver: VirtioNetDriver }];
  await plugTap(run, tap);
  const frame = benchFrame(64, driver.readConfig().mac, PEER_MAC);
  const rec = new RingRecycler(driver.memory, driver.queue(RX_QUEUE), () => driver.kick(RX_QUEUE), { interrupts: true });
  let frames = 0;
  let notifications = 0;
  return {
    window: async () => {
      const f0 = packetsOf(device, RX_QUEUE);
      const n0 = driver.notifications(RX_QUEUE);
      const { out, load } = await withFlood(run, tap, frame, () => vnicWindow(run, rec, () => packetsOf(device, RX_QUEUE)), IRQ_PPS);
      const f = packetsOf(device, RX_QUEUE) - f0;
      const n = driver.notifications(RX_QUEUE) - n0;
      if (f === 0) throw new CliError('command-failed', `irq-per-frame (${coalesced ? 'coalesced' : 'not coalesced'}): the guest received nothing`);
      frames += f;
      notifications += n;
      return { perFrame: n / f, frames: f, notifications: n, load: { ...load, deviceBusy: out.result.load?.deviceBusy ?? 0 } };
    },
    finish: async () => `${notifications} notifications for ${frames} frames (${round(frames / Math.max(1, notifications), 1)} frames per notification)`,
  };
}

/** The irq-per-frame-coalesced row: notifications per received frame, coalesced (vnic) and not (reference). */
function irqRow(run: Run, m: { vnic: Measured<IrqWindow>; ref: Measured<IrqWindow> }): BenchRow {
  const v = summarizeRounds(m.vnic.windows.map((w) => w.perFrame));
  const c = summarizeRounds(m.ref.windows.map((w) => w.perFrame));
  const spread = (s: { min: number; max: number }): string => `${round(s.min, 4)}..${round(s.max, 4)}`;
  const note =
    `median of ${run.rounds} windows of ${run.seconds} s (coalesced ${spread(v)}, not ${spread(c)}); RX 64 B frames paced at ${IRQ_PPS} per second, a guest that wants every interrupt ` +
    `(no EVENT_IDX); coalescing rx maxPackets ${IRQ_COALESCING.rx.maxPackets} maxUsecs ${IRQ_COALESCING.rx.maxUsecs}; coalesced: ${m.vnic.note}; not coalesced: ${m.ref.note}`;
  // The source is paced on purpose (a count per frame at a set rate): what a load check would see
  // (offered about 1.00x what the device took) is said, not judged.
  const seen = (label: string, ws: readonly IrqWindow[]): string => {
    const load = combineLoads(ws.map((w) => w.load));
    return load === undefined ? '' : `; ${label} ${checkHeadroom(load).text}`;
  };
  return makeBenchRow(BENCH, 'irq-per-frame-coalesced', 'notifications/frame', round(v.median, 4), round(c.median, 4), {
    referenceName: 'the same NIC without coalescing',
    note,
    paced: `RX source at ${IRQ_PPS} frames/s on purpose (a count per frame, no headroom expected)${seen('coalesced', m.vnic.windows)}${seen('not coalesced', m.ref.windows)}`,
  });
}

/**
 * Opens both sides, then alternates their windows (vnic, reference, vnic, ...) `rounds` times, so a
 * busy phase of a shared machine hits both alike; returns each side's rates and notes.
 */
async function compare<W = WindowResult>(
  run: Run,
  label: string,
  open: (local: Cleanup) => Promise<{ vnic: Side<W>; ref: Side<W> }>,
): Promise<{ vnic: Measured<W>; ref: Measured<W> }> {
  return scoped(run, label, async (local) => {
    const { vnic, ref } = await open(local);
    const v: W[] = [];
    const c: W[] = [];
    for (let r = 1; r <= run.rounds; r++) {
      run.ctx.progress(`${label}: round ${r}/${run.rounds}: vnic`);
      v.push(await vnic.window());
      run.ctx.progress(`${label}: round ${r}/${run.rounds}: reference`);
      c.push(await ref.window());
    }
    return { vnic: { windows: v, note: await vnic.finish() }, ref: { windows: c, note: await ref.finish() } };
  });
}

/** A row from both sides' rates: medians, and the spread of the rounds in the note. */
function compareRow(
  run: Run,
  metric: string,
  unit: string,
  scale: (pps: number) => number,
  referenceName: string,
  m: { vnic: Measured; ref: Measured },
  refLabel = 'C',
): BenchRow {
  const v = summarizeRounds(m.vnic.windows.map((w) => scale(w.pps)));
  const c = summarizeRounds(m.ref.windows.map((w) => scale(w.pps)));
  const spread = (s: { min: number; max: number }): string => `${round(s.min)}..${round(s.max)}`;
  const us = (ws: readonly WindowResult[], pick: (w: WindowResult) => number): string => round(summarizeRounds(ws.map(pick)).median, 2).toString();
  const cpu = `CPU per frame: vnic device ${us(m.vnic.windows, (w) => w.cpuUs)} us + guest ${us(m.vnic.windows, (w) => w.guestUs ?? 0)} us, ${refLabel} ${us(m.ref.windows, (w) => w.cpuUs)} us`;
  const note = `median of ${run.rounds} windows of ${run.seconds} s (vnic ${spread(v)}, ${refLabel} ${spread(c)}); ${cpu}; vnic: ${m.vnic.note}; ${refLabel}: ${m.ref.note}`;
  const headroom: Record<string, Headroom> = {};
  const vLoad = windowsHeadroom(m.vnic.windows);
  const cLoad = windowsHeadroom(m.ref.windows);
  if (vLoad !== undefined) headroom['vnic'] = vLoad;
  if (cLoad !== undefined) headroom[refLabel] = cLoad;
  return makeBenchRow(BENCH, metric, unit, round(v.median), round(c.median), { referenceName, note, headroom });
}

/** The load check over one side's windows (undefined for a side that is its own source, the C writev loop). */
function windowsHeadroom(windows: readonly WindowResult[]): Headroom | undefined {
  const load = combineLoads(windows.map((w) => w.load));
  return load === undefined ? undefined : checkHeadroom(load);
}

// ---- the bench ----------------------------------------------------------------------------------

/** The rows of `vnic bench virtio-net`, in the order it reports them. */
const METRICS = [
  'rss-per-nic-mib',
  'tx-64B-64nics-mpps',
  'rss-per-nic-dedicated-mib',
  'tx-64B-mpps',
  'tx-64B-sqpoll-mpps',
  'tx-64B-packed-mpps',
  'tx-64B-packed-vs-split-mpps',
  'tx-64B-dirtylog-mpps',
  'tx-1514B-gbps',
  'tx-1514B-sqpoll-gbps',
  'rx-64B-mpps',
  'rx-64B-dirtylog-mpps',
  'irq-per-frame-coalesced',
  'rtt-64B-p50-us',
  'rtt-64B-p99-us',
] as const;

/**
 * `vnic bench virtio-net`: the in-process backend (VirtioNetTapDevice, one queue pair, built from a
 * VM config through @vnic/config) against C per-packet loops on identical taps, in the same run:
 * TX 64 B Mpps and 1514 B Gbit/s (guest -> tap vs a C writev(vnet_hdr, frame) loop), RX 64 B Mpps
 * (tap -> guest vs a C read() loop, both fed by the same AF_PACKET source inside the namespace),
 * and, with 64 NICs activated at once, RSS per NIC (shared and dedicated IO threads) and their aggregate TX rate (manyNicsRows). vnic and reference windows alternate (median of the
 * rounds). The guest is a RingRecycler (not the TypeScript driver's send/receive path), so the
 * device is what is measured. Every tap lives in a namespace of the bench's own; everything is
 * removed at the end, on errors and on Ctrl-C.
 */
export function virtioNetBench(options: VirtioNetBenchOptions = {}): Bench {
  const rounds = options.rounds ?? 5;
  const warmupS = options.warmupSeconds ?? 0.5;
  const rssNics = options.rssNics ?? 64;
  const queueSize = options.queueSize ?? 1024;
  return {
    name: BENCH,
    metrics: METRICS,
    description: 'in-process backend (IO threads + tap) vs C writev/read loops on identical taps: TX/RX Mpps, TX Gbit/s, RSS per NIC',

    async unavailable() {
      const names = containerBackends(createVnicContainer()).names;
      if (!names.includes(BENCH)) return `the "${BENCH}" backend (@vnic/virtio-net) is not loaded (loaded: ${names.join(', ') || 'none'})`;
      return (await netnsSupport()) ?? (await ccUnavailable());
    },

    async run(ctx) {
      const seconds = ctx.seconds ?? options.defaultSeconds ?? 2;
      const cleanup = new Cleanup();
      let interrupted: NodeJS.Signals | undefined;
      const onSignal = (signal: NodeJS.Signals): void => {
        if (interrupted !== undefined) return;
        interrupted = signal;
        ctx.io.err(`\n${signal}: cleaning up...\n`);
        void cleanup.runAll().then((lines) => {
          ctx.io.err(`cleaned up: ${lines.join(', ') || 'nothing to do'}\n`);
          process.exit(signal === 'SIGINT' ? 130 : 143);
        });
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        ctx.progress('compiling the C references (packages/cli/bench-c) with cc');
        const { dir, programs } = await compileBenchC(['tap_ref', 'packet_flood'] as const);
        cleanup.add('C references removed', () => rm(dir, { recursive: true, force: true }));
        const ns = await Netns.create('vnb');
        cleanup.add(`namespace ${ns.name} deleted`, () => ns.delete());
        // No IPv6 chatter (router solicitations, DAD) on the taps: only the bench's frames move.
        await ns.exec('sysctl', ['-qw', 'net.ipv6.conf.default.disable_ipv6=1', 'net.ipv6.conf.all.disable_ipv6=1']);
        const run: Run = { ctx, seconds, warmupS, rounds, queueSize, cleanup, ns, programs, interrupted: () => interrupted !== undefined };

        const wants = (...metrics: (typeof METRICS)[number][]): boolean => wantsRow(ctx, ...metrics);

        // rss-per-nic-mib, rss-per-nic-dedicated-mib and tx-64B-64nics-mpps (virtioNet/manyNicsRows.ts).
        if (wants('rss-per-nic-mib', 'rss-per-nic-dedicated-mib', 'tx-64B-64nics-mpps'))
          for (const row of await manyNicsRows({ ...run, nics: rssNics })) ctx.row(row);

        const each = `${rounds} rounds of ${seconds} s per side`;
        /** A TX row against the C writev loop on an identical tap: `frameLen`-byte frames, the NIC on `ring`, its TX ring on SQPOLL or not. */
        const txVsC = async (
          metric: (typeof METRICS)[number],
          what: string,
          progress: string,
          frameLen: number,
          unit: string,
          toUnit: (pps: number) => number,
          ring: RingLayout = 'split',
          sqPoll = false,
        ): Promise<void> => {
          ctx.progress(`${progress} (${each})`);
          const r = await compare(run, what, async (local) => ({
            vnic: await openVnicTx(run, local, frameLen, ring, sqPoll),
            ref: await openCTx(run, local, frameLen),
          }));
          ctx.row(compareRow(run, metric, unit, toUnit, 'C writev loop', r));
        };
        if (wants('tx-64B-mpps'))
          await txVsC('tx-64B-mpps', 'TX 64 B', 'TX 64 B: vnic guest -> tap vs C writev(vnet_hdr, frame) loop -> tap', 64, 'Mpps', mpps);
        if (wants('tx-64B-sqpoll-mpps'))
          await txVsC('tx-64B-sqpoll-mpps', 'TX 64 B SQPOLL', 'TX 64 B, SQPOLL TX ring: the same against the same C loop', 64, 'Mpps', mpps, 'split', true);
        if (wants('tx-64B-packed-mpps'))
          await txVsC(
            'tx-64B-packed-mpps',
            'TX 64 B packed',
            'TX 64 B, packed ring (RING_PACKED): the same against the same C loop',
            64,
            'Mpps',
            mpps,
            'packed',
          );
        if (wants('tx-64B-packed-vs-split-mpps')) {
          // The two ring layouts against each other, window for window: measured each against its
          // own C windows (the two rows above), they differ by less than those windows spread.
          ctx.progress(`TX 64 B, packed ring against split ring: two NICs, the same guest and frames (${each})`);
          const r = await compare(run, 'TX 64 B packed vs split', async (local) => ({
            vnic: await openVnicTx(run, local, 64, 'packed'),
            ref: await openVnicTx(run, local, 64, 'split'),
          }));
          ctx.row(compareRow(run, 'tx-64B-packed-vs-split-mpps', 'Mpps', mpps, 'a second NIC on a split ring', r, 'split'));
        }
        if (wants('tx-64B-dirtylog-mpps')) {
          ctx.progress(`TX 64 B, dirty logging on: vnic guest -> tap vs the same NIC with logging off (${each})`);
          const tx64l = await compare(run, 'TX 64 B dirty log', async (local) => dirtyLogSides(await openVnicTx(run, local, 64), local));
          ctx.row(compareRow(run, 'tx-64B-dirtylog-mpps', 'Mpps', mpps, 'the same NIC, dirty log off', tx64l, 'log off'));
        }

        const gbps = (pps: number): number => (pps * 1514 * 8) / 1e9;
        if (wants('tx-1514B-gbps')) await txVsC('tx-1514B-gbps', 'TX 1514 B', 'TX 1514 B: the same with full-size frames', 1514, 'Gbit/s', gbps);
        if (wants('tx-1514B-sqpoll-gbps'))
          await txVsC(
            'tx-1514B-sqpoll-gbps',
            'TX 1514 B SQPOLL',
            'TX 1514 B, SQPOLL TX ring: the same against the same C loop',
            1514,
            'Gbit/s',
            gbps,
            'split',
            true,
          );

        if (wants('rx-64B-mpps')) {
          ctx.progress(`RX 64 B: tap -> vnic guest vs C read() loop, fed by an AF_PACKET source in ${ns.name} (${each})`);
          const rx64 = await compare(run, 'RX 64 B', async (local) => ({ vnic: await openVnicRx(run, local), ref: await openCRx(run, local) }));
          ctx.row(compareRow(run, 'rx-64B-mpps', 'Mpps', mpps, 'C read loop', rx64));
        }
        if (wants('rx-64B-dirtylog-mpps')) {
          ctx.progress(`RX 64 B, dirty logging on: tap -> vnic guest vs the same NIC with logging off (${each})`);
          const rx64l = await compare(run, 'RX 64 B dirty log', async (local) => dirtyLogSides(await openVnicRx(run, local), local));
          ctx.row(compareRow(run, 'rx-64B-dirtylog-mpps', 'Mpps', mpps, 'the same NIC, dirty log off', rx64l, 'log off'));
        }

        if (wants('irq-per-frame-coalesced')) {
          ctx.progress(`RX notifications per frame: coalescing rx max_packets 32 vs none, ${IRQ_PPS} frames/s (${each})`);
          const irq = await compare<IrqWindow>(run, 'RX irq per frame', async (local) => ({
            vnic: await openIrqRx(run, local, true),
            ref: await openIrqRx(run, local, false),
          }));
          ctx.row(irqRow(run, irq));
        }

        if (wants('rtt-64B-p50-us', 'rtt-64B-p99-us')) {
          ctx.progress(`RTT 64 B: ICMP echo, TS driver -> vnic -> ${ns.name}'s kernel and back vs a C writev + poll loop, one request in flight (${each})`);
          const rtt = await compare<RttWindow>(run, 'RTT 64 B', async (local) => ({ vnic: await openVnicRtt(run, local), ref: await openCRtt(run, local) }));
          for (const row of rttRows(run, rtt)) ctx.row(row);
        }
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        if (interrupted === undefined) {
          const lines = await cleanup.runAll();
          const failed = lines.filter((l) => l.includes('FAILED'));
          if (failed.length > 0) ctx.io.err(`[bench ${BENCH}] cleanup: ${failed.join(', ')}\n`);
        }
      }
    },
  };
}
