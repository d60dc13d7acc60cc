import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { containerBackends, createNetDevices, createVnicContainer } from '@vnic/config';
import { featureBit, VIRTIO_F_EVENT_IDX, VIRTIO_F_VERSION_1, virtio_net, type VirtioNetDevice } from '@vnic/core';
import { VirtioNetDriver } from '@vnic/driver';
import { CliError } from '../CliError.ts';
import { Cleanup } from '../demo/Cleanup.ts';
import { Netns } from '../netns/Netns.ts';
import { netnsSupport } from '../netns/netnsSupport.ts';
import { uniqueName } from '../netns/uniqueName.ts';
import type { Bench } from './Bench.ts';
import type { BenchContext } from './BenchContext.ts';
import { makeBenchRow } from './makeBenchRow.ts';
import { benchFrame } from './virtioNet/benchFrame.ts';
import { BenchProcess } from './virtioNet/BenchProcess.ts';
import { ccUnavailable } from './virtioNet/ccUnavailable.ts';
import { compileBenchC } from './virtioNet/compileBenchC.ts';
import { parseProcStatus } from './virtioNet/parseProcStatus.ts';
import { parseResultLine } from './virtioNet/parseResultLine.ts';
import type { ProcRss } from './virtioNet/ProcRss.ts';
import { RingRecycler } from './virtioNet/RingRecycler.ts';
import { runGuestWindow } from './virtioNet/runGuestWindow.ts';

const BENCH = 'virtio-net';
const N = virtio_net;
/** What the bench guest negotiates: a Linux guest on a tap without offloads (so TUNSETOFFLOAD 0, as the C reference). */
const GUEST_FEATURES = [VIRTIO_F_VERSION_1, VIRTIO_F_EVENT_IDX, N.VIRTIO_NET_F_MAC, N.VIRTIO_NET_F_MRG_RXBUF].reduce((m, b) => m | featureBit(b), 0n);
const QUEUE_SIZE = 256;
const DEFAULT_SECONDS = 3;
const WARMUP_S = 0.5;
const RSS_NICS = 32;
const GUEST_MAC = '52:54:00:be:00:01';
/** The far end's MAC in the frames (a locally administered address no interface has). */
const PEER_MAC = Uint8Array.of(0x02, 0x00, 0x00, 0xbe, 0x00, 0x02);
const TX_QUEUE = 1;
const RX_QUEUE = 0;

/** One side's measured rate and what a reader needs to trust it. */
interface Rate {
  readonly pps: number;
  readonly note: string;
}

/** Everything one run shares: options, the namespace, the compiled programs, the cleanup list. */
interface Run {
  readonly ctx: BenchContext;
  readonly seconds: number;
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
function nicEntry(id: string, tap: string, mac = GUEST_MAC): Record<string, unknown> {
  return { id, backend: BENCH, mac, queuePairs: 1, queueSize: QUEUE_SIZE, 'virtio-net': { tap } };
}

/** Runs `body` with a cleanup list of its own, run when it ends and also by the run's cleanup (Ctrl-C). */
async function scoped<T>(run: Run, label: string, body: (local: Cleanup) => Promise<T>): Promise<T> {
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

/** Builds the NIC(s) through @vnic/config (as a VMM does) and activates each with a VirtioNetDriver. */
async function openNics(run: Pick<Run, 'ctx'>, local: Cleanup, entries: readonly Record<string, unknown>[]): Promise<{ device: VirtioNetDevice; driver: VirtioNetDriver }[]> {
  const container = createVnicContainer(run.ctx.io.backendModules());
  const devices = await createNetDevices({ net: entries }, { container, source: 'vnic bench virtio-net', onWarning: (m) => run.ctx.progress(`warning: ${m}`) });
  for (const d of devices) local.add(`device ${d.id} closed`, () => d.close());
  const out: { device: VirtioNetDevice; driver: VirtioNetDriver }[] = [];
  for (const device of devices) {
    const driver = await VirtioNetDriver.create({ device, features: GUEST_FEATURES, queuePairs: 1, queueSize: QUEUE_SIZE });
    local.add(`driver of ${device.id} closed`, () => driver.close());
    out.push({ device, driver });
  }
  return out;
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
    throw new CliError('invalid-state', `${what}: the writer counted ${claimed} frames but the tap received only ${tapCounted}: the measurement is not trustworthy`);
  }
}

// ---- TX: guest -> tap ---------------------------------------------------------------------------

async function vnicTx(run: Run, frameLen: number): Promise<Rate> {
  return scoped(run, `vnic TX ${frameLen} B`, async (local) => {
    const tap = uniqueName('vnbt');
    const [{ device, driver }] = (await openNics(run, local, [nicEntry('bench0', tap)])) as [{ device: VirtioNetDevice; driver: VirtioNetDriver }];
    await plugTap(run, tap);
    const frame = benchFrame(frameLen, PEER_MAC, driver.readConfig().mac);
    const before = await run.ns.linkStats(tap);
    const devBefore = packetsOf(device, TX_QUEUE);
    // A full ring of the same frame, then the recycler keeps it full.
    const posted = driver.sendBatch(new Array<Uint8Array>(driver.queueSize).fill(frame));
    if (posted !== driver.queueSize) throw new CliError('invalid-state', `bench guest: posted ${posted} of ${driver.queueSize} TX chains`);
    const rec = new RingRecycler(driver.memory, driver.queue(TX_QUEUE), () => driver.kick(TX_QUEUE));
    const w = await runGuestWindow(rec, { warmupMs: WARMUP_S * 1000, seconds: run.seconds, counter: () => packetsOf(device, TX_QUEUE), interrupted: run.interrupted });
    await sleep(50); // the device finishes the chains in flight
    const after = await run.ns.linkStats(tap);
    const devTotal = packetsOf(device, TX_QUEUE) - devBefore;
    const tapTotal = after.rx.packets - before.rx.packets;
    checkTapCount('vnic TX', devTotal, tapTotal);
    const drops = dropsOf(device, TX_QUEUE);
    return { pps: w.packets / w.seconds, note: `tap got ${tapTotal}/${devTotal} frames${drops > 0 ? `, device drops ${drops}` : ''}, ${rec.kicks} kicks` };
  });
}

async function cTx(run: Run, frameLen: number): Promise<Rate> {
  return scoped(run, `C TX ${frameLen} B`, async (local) => {
    const tap = uniqueName('vnbc');
    const frame = benchFrame(frameLen, PEER_MAC, macBytes(GUEST_MAC));
    const p = new BenchProcess('the C writev loop (tap_ref write)', run.programs.tap_ref, ['write', tap, hex(frame), String(WARMUP_S), String(run.seconds)]);
    local.add('C writev loop stopped', () => p.kill());
    await p.waitForLine((l) => l === `ready ${tap}`, 10_000, `"ready ${tap}"`);
    await plugTap(run, tap);
    const before = await run.ns.linkStats(tap);
    p.writeLine('go');
    await p.waitForLine((l) => l.startsWith('{'), (WARMUP_S + run.seconds) * 1000 + 15_000, 'its result');
    const r = parseResultLine(p.stdout, ['packets', 'seconds', 'errors'] as const, p.what);
    const after = await run.ns.linkStats(tap);
    p.closeStdin();
    await p.finish(5000);
    const tapTotal = after.rx.packets - before.rx.packets;
    checkTapCount('C TX', r.packets, tapTotal);
    if (r.seconds <= 0 || r.packets === 0) throw new CliError('command-failed', `${p.what} wrote nothing (${r.errors} writev errors)`);
    return { pps: r.packets / r.seconds, note: `tap got ${tapTotal} frames (warm-up included)${r.errors > 0 ? `, ${r.errors} writev errors` : ''}` };
  });
}

// ---- RX: tap -> guest ---------------------------------------------------------------------------

/** Starts the traffic source inside the namespace, sending `frame` out of `tap` until stopped. */
async function startFlood(run: Run, local: Cleanup, tap: string, frame: Uint8Array): Promise<BenchProcess> {
  const flood = new BenchProcess('the traffic source (packet_flood in the namespace)', 'ip', ['netns', 'exec', run.ns.name, run.programs.packet_flood, tap, hex(frame)]);
  local.add('traffic source stopped', () => flood.kill());
  await flood.waitForLine((l) => l === 'ready', 10_000, '"ready"');
  return flood;
}

async function stopFlood(flood: BenchProcess): Promise<number> {
  flood.signal('SIGTERM');
  await flood.finish(5000);
  return parseResultLine(flood.stdout, ['sent'] as const, flood.what).sent;
}

function rxNote(tapTx: { packets: number; dropped: number }, seconds: number): string {
  return `source queued ${round(mpps(tapTx.packets / seconds), 2)} Mpps into the tap, which dropped ${tapTx.dropped} on a full queue`;
}

async function vnicRx(run: Run): Promise<Rate> {
  return scoped(run, 'vnic RX 64 B', async (local) => {
    const tap = uniqueName('vnbr');
    const [{ device, driver }] = (await openNics(run, local, [nicEntry('bench0', tap)])) as [{ device: VirtioNetDevice; driver: VirtioNetDriver }];
    await plugTap(run, tap);
    const frame = benchFrame(64, driver.readConfig().mac, PEER_MAC);
    const rec = new RingRecycler(driver.memory, driver.queue(RX_QUEUE), () => driver.kick(RX_QUEUE));
    const before = await run.ns.linkStats(tap);
    const t0 = performance.now();
    const flood = await startFlood(run, local, tap, frame);
    const w = await runGuestWindow(rec, { warmupMs: WARMUP_S * 1000, seconds: run.seconds, counter: () => packetsOf(device, RX_QUEUE), interrupted: run.interrupted });
    await stopFlood(flood);
    const elapsed = (performance.now() - t0) / 1000;
    const after = await run.ns.linkStats(tap);
    if (w.guestElements < w.packets - QUEUE_SIZE) {
      throw new CliError('invalid-state', `vnic RX: the device counted ${w.packets} frames but the guest found only ${w.guestElements} in its ring`);
    }
    const tapTx = { packets: after.tx.packets - before.tx.packets, dropped: after.tx.dropped - before.tx.dropped };
    const s = device.stats().find((q) => q.index === RX_QUEUE);
    const extra = s === undefined ? '' : `; device: noBuffer ${s.noBuffer}, drops ${s.drops}, filtered ${s.filtered}`;
    return { pps: w.packets / w.seconds, note: `${rxNote(tapTx, elapsed)}${extra}` };
  });
}

async function cRx(run: Run): Promise<Rate> {
  return scoped(run, 'C RX 64 B', async (local) => {
    const tap = uniqueName('vnbd');
    const frame = benchFrame(64, macBytes(GUEST_MAC), PEER_MAC);
    const p = new BenchProcess('the C read loop (tap_ref read)', run.programs.tap_ref, ['read', tap, '-', String(WARMUP_S), String(run.seconds)]);
    local.add('C read loop stopped', () => p.kill());
    await p.waitForLine((l) => l === `ready ${tap}`, 10_000, `"ready ${tap}"`);
    await plugTap(run, tap);
    const before = await run.ns.linkStats(tap);
    const t0 = performance.now();
    const flood = await startFlood(run, local, tap, frame);
    p.writeLine('go');
    await p.waitForLine((l) => l.startsWith('{'), (WARMUP_S + run.seconds) * 1000 + 15_000, 'its result');
    await stopFlood(flood);
    const elapsed = (performance.now() - t0) / 1000;
    const r = parseResultLine(p.stdout, ['packets', 'seconds', 'errors'] as const, p.what);
    const after = await run.ns.linkStats(tap);
    p.closeStdin();
    await p.finish(5000);
    if (r.seconds <= 0 || r.packets === 0) throw new CliError('command-failed', `${p.what} read nothing (${r.errors} read errors)`);
    const tapTx = { packets: after.tx.packets - before.tx.packets, dropped: after.tx.dropped - before.tx.dropped };
    return { pps: r.packets / r.seconds, note: rxNote(tapTx, elapsed) };
  });
}

// ---- memory -------------------------------------------------------------------------------------

function procRss(): ProcRss {
  return parseProcStatus(readFileSync('/proc/self/status', 'utf8'));
}

/** RSS growth of this process per activated NIC, guest RAM (shared memfd pages) left out. */
async function rssPerNic(run: Run): Promise<{ mib: number; note: string }> {
  // Warm-up: one NIC opened, activated and closed loads every module, builds the IO thread script
  // and leaves no thread behind (the pool empties when the last device closes).
  await scoped(run, 'memory warm-up NIC', async (local) => {
    await openNics(run, local, [nicEntry('warm0', uniqueName('vnbm'))]);
  });
  await sleep(200);
  const before = procRss();
  return scoped(run, `${RSS_NICS} NICs`, async (local) => {
    const entries = [...Array(RSS_NICS).keys()].map((i) => nicEntry(`nic${i}`, uniqueName('vnbm'), `52:54:00:be:01:${i.toString(16).padStart(2, '0')}`));
    const nics = await openNics(run, local, entries);
    if (nics.length !== RSS_NICS) throw new CliError('invalid-state', `opened ${nics.length} of ${RSS_NICS} NICs`);
    await sleep(300);
    const after = procRss();
    const own = (r: ProcRss): number => r.anon + r.file;
    const perNicKiB = (own(after) - own(before)) / RSS_NICS;
    const shmemKiB = (after.shmem - before.shmem) / RSS_NICS;
    return {
      mib: round(perNicKiB / 1024, 2),
      note: `${RSS_NICS} NICs activated, 1 IO thread each; VmRSS +${round((after.rss - before.rss) / RSS_NICS / 1024, 2)} MiB/NIC of which guest RAM touched (shmem, not counted) ${round(shmemKiB / 1024, 2)}`,
    };
  });
}

// ---- the bench ----------------------------------------------------------------------------------

/**
 * `vnic bench virtio-net`: the in-process backend (VirtioNetTapDevice, one queue pair, built from a
 * VM config through @vnic/config) against C per-packet loops on identical taps, measured in the
 * same run: TX 64 B Mpps and 1514 B Gbit/s (guest -> tap vs a C writev(vnet_hdr, frame) loop),
 * RX 64 B Mpps (tap -> guest vs a C read() loop, both fed by the same AF_PACKET source inside the
 * namespace), and RSS per NIC with 32 activated NICs. The guest is a RingRecycler (not the
 * TypeScript driver's send/receive path), so the device is what is measured. Every tap lives in a
 * namespace of the bench's own; everything is removed at the end, on errors and on Ctrl-C.
 */
export const virtioNetBench: Bench = {
  name: BENCH,
  description: 'in-process backend (IO threads + tap) vs C writev/read loops on identical taps: TX/RX Mpps, TX Gbit/s, RSS per NIC',

  async unavailable() {
    const names = containerBackends(createVnicContainer()).names;
    if (!names.includes(BENCH)) return `the "${BENCH}" backend (@vnic/virtio-net) is not loaded (loaded: ${names.join(', ') || 'none'})`;
    return (await netnsSupport()) ?? (await ccUnavailable());
  },

  async run(ctx) {
    const seconds = ctx.seconds ?? DEFAULT_SECONDS;
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
      const run: Run = { ctx, seconds, cleanup, ns, programs, interrupted: () => interrupted !== undefined };
      const window = `${seconds} s after ${WARMUP_S} s warm-up`;

      ctx.progress(`memory: ${RSS_NICS} NICs activated in this process`);
      const rss = await rssPerNic(run);
      ctx.row(makeBenchRow(BENCH, 'rss-per-nic-mib', 'MiB', rss.mib, null, { note: rss.note }));

      for (const [metric, len] of [
        ['tx-64B-mpps', 64],
        ['tx-1514B-gbps', 1514],
      ] as const) {
        ctx.progress(`TX ${len} B: vnic, guest -> tap (${window})`);
        const v = await vnicTx(run, len);
        ctx.progress(`TX ${len} B: C writev(vnet_hdr, frame) loop -> tap (${window})`);
        const c = await cTx(run, len);
        const value = (r: Rate): number => (len === 64 ? round(mpps(r.pps)) : round((r.pps * len * 8) / 1e9));
        ctx.row(makeBenchRow(BENCH, metric, len === 64 ? 'Mpps' : 'Gbit/s', value(v), value(c), { referenceName: 'C writev loop', note: `vnic: ${v.note}; C: ${c.note}` }));
      }

      ctx.progress(`RX 64 B: vnic, tap -> guest, fed by an AF_PACKET source in ${ns.name} (${window})`);
      const v = await vnicRx(run);
      ctx.progress(`RX 64 B: C read() loop, fed the same way (${window})`);
      const c = await cRx(run);
      ctx.row(makeBenchRow(BENCH, 'rx-64B-mpps', 'Mpps', round(mpps(v.pps)), round(mpps(c.pps)), { referenceName: 'C read loop', note: `vnic: ${v.note}; C: ${c.note}` }));
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
