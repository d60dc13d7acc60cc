import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createNetDevices, createVnicContainer } from '@vnic/config';
import { featureBit, VIRTIO_F_EVENT_IDX, VIRTIO_F_VERSION_1, virtio_net, type VirtioNetDevice } from '@vnic/core';
import { VirtioNetDriver } from '@vnic/driver';
import { CliError } from '../../CliError.ts';
import { Cleanup } from '../../demo/Cleanup.ts';
import type { Netns } from '../../netns/Netns.ts';
import { uniqueName } from '../../netns/uniqueName.ts';
import type { BenchContext } from '../BenchContext.ts';
import type { BenchRow } from '../BenchRow.ts';
import { checkHeadroom } from '../checkHeadroom.ts';
import type { Headroom } from '../Headroom.ts';
import { makeBenchRow } from '../makeBenchRow.ts';
import { benchFrame } from './benchFrame.ts';
import { busiestThreads } from './busiestThreads.ts';
import { parseProcStatus } from './parseProcStatus.ts';
import type { ProcRss } from './ProcRss.ts';
import { RingRecycler } from './RingRecycler.ts';
import { runGuestWindow } from './runGuestWindow.ts';
import { threadCpu } from './threadCpu.ts';

/** What the 64-NIC rows need from the virtio-net bench's run. */
export interface ManyNicsRun {
  readonly ctx: BenchContext;
  /** The bench's namespace: the taps of the TX row go there (up, no address). */
  readonly ns: Netns;
  /** Seconds per TX window. */
  readonly seconds: number;
  readonly warmupS: number;
  /** Run-wide cleanup (Ctrl-C): each phase registers its own list there too. */
  readonly cleanup: Cleanup;
  readonly interrupted: () => boolean;
  /** NICs activated at once (default 64). */
  readonly nics?: number;
}

const BENCH = 'virtio-net';
const N = virtio_net;
/** The bench guest's features (as the other virtio-net rows): no offloads, MRG_RXBUF, EVENT_IDX. */
const GUEST_FEATURES = [VIRTIO_F_VERSION_1, VIRTIO_F_EVENT_IDX, N.VIRTIO_NET_F_MAC, N.VIRTIO_NET_F_MRG_RXBUF].reduce((m, b) => m | featureBit(b), 0n);
const PEER_MAC = Uint8Array.of(0x02, 0x00, 0x00, 0xbe, 0x00, 0x02);
const TX_QUEUE = 1;
const round = (v: number, digits = 3): number => Number(v.toFixed(digits));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface OpenNic {
  readonly device: VirtioNetDevice;
  readonly driver: VirtioNetDriver;
  readonly tap: string;
}

function procRss(): ProcRss {
  return parseProcStatus(readFileSync('/proc/self/status', 'utf8'));
}

function txPackets(device: VirtioNetDevice): number {
  return device.stats().find((s) => s.index === TX_QUEUE)?.packets ?? 0;
}

/**
 * Builds `count` NICs through @vnic/config in the default configuration (one queue pair, the
 * config's default queue size) with `ioThreads`, and activates each with a VirtioNetDriver.
 */
async function openMany(run: ManyNicsRun, local: Cleanup, count: number, ioThreads: 'shared' | 'dedicated', tag: string): Promise<OpenNic[]> {
  const container = createVnicContainer(run.ctx.io.backendModules());
  local.add(`container of ${tag} disposed`, () => container.dispose());
  const taps = [...Array(count).keys()].map(() => uniqueName('vnbn'));
  const net = taps.map((tap, i) => ({
    id: `${tag}${i}`,
    backend: BENCH,
    mac: `52:54:00:be:02:${i.toString(16).padStart(2, '0')}`,
    'virtio-net': { tap, ioThreads },
  }));
  const devices = await createNetDevices({ net }, { container, source: 'vnic bench virtio-net', onWarning: (m) => run.ctx.progress(`warning: ${m}`) });
  for (const d of devices) local.add(`device ${d.id} closed`, () => d.close());
  const out: OpenNic[] = [];
  for (const [i, device] of devices.entries()) {
    const driver = await VirtioNetDriver.create({ device, features: GUEST_FEATURES, queuePairs: 1 });
    local.add(`driver of ${device.id} closed`, () => driver.close());
    out.push({ device, driver, tap: taps[i]! });
  }
  return out;
}

/** Runs `body` with a cleanup list of its own, run when it ends (and by the run's cleanup on Ctrl-C). */
async function phase<T>(run: ManyNicsRun, label: string, body: (local: Cleanup) => Promise<T>): Promise<T> {
  const local = new Cleanup();
  run.cleanup.add(label, () => local.runAll());
  try {
    return await body(local);
  } finally {
    const failed = (await local.runAll()).filter((l) => l.includes('FAILED'));
    if (failed.length > 0) run.ctx.progress(`cleanup after ${label}: ${failed.join(', ')}`);
  }
}

/** RSS growth per activated NIC (guest RAM, shared memfd pages, left out), with `body` run while they are open. */
async function rssPerNic(run: ManyNicsRun, count: number, ioThreads: 'shared' | 'dedicated', body?: (nics: readonly OpenNic[]) => Promise<void>) {
  // Warm-up: one NIC of this mode opened and closed (modules, the IO thread script, koffi's pools).
  await phase(run, `${ioThreads} warm-up NIC`, (local) => openMany(run, local, 1, ioThreads, 'warm'));
  await sleep(200);
  const before = procRss();
  return phase(run, `${count} ${ioThreads} NICs`, async (local) => {
    const nics = await openMany(run, local, count, ioThreads, ioThreads === 'shared' ? 'many' : 'own');
    await sleep(300);
    const after = procRss();
    const own = (r: ProcRss): number => r.anon + r.file;
    const mib = round((own(after) - own(before)) / count / 1024, 2);
    const threads = Number(/^Threads:\s+(\d+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0);
    const note =
      `${count} NICs activated (${ioThreads} IO threads; ${threads} threads in the process), each with its TS driver in this process; ` +
      `VmRSS +${round((after.rss - before.rss) / count / 1024, 2)} MiB/NIC, guest RAM touched (shmem, not counted) ${round((after.shmem - before.shmem) / count / 1024, 2)}`;
    await body?.(nics);
    return { mib, note };
  });
}

/** One window of the many-NIC TX row: the devices' aggregate rate and the load check of their guests. */
interface TxWindow {
  readonly pps: number;
  readonly headroom: Headroom;
}

/**
 * Frames per second the devices of `nics` sent over one window, their guests (RingRecyclers) all
 * pumped on this thread by runGuestWindow; the load check compares the main thread's share of the
 * wall time (the guests: the source) with the busiest other thread's (an IO thread).
 */
async function txWindow(run: ManyNicsRun, recs: readonly RingRecycler[], nics: readonly OpenNic[]): Promise<TxWindow> {
  const guests = {
    pump: (): number => {
      let moved = 0;
      for (const r of recs) moved += r.pump();
      return moved;
    },
    get elements(): number {
      return recs.reduce((s, r) => s + r.elements, 0);
    },
  };
  const t0 = threadCpu();
  const wall0 = performance.now();
  const w = await runGuestWindow(guests, {
    warmupMs: run.warmupS * 1000,
    seconds: run.seconds,
    counter: () => nics.reduce((s, n) => s + txPackets(n.device), 0),
    interrupted: run.interrupted,
  });
  const threads = busiestThreads(t0, threadCpu(), (performance.now() - wall0) / 1000);
  const sourceBusy = threads.find((t) => t.tid === process.pid)?.busy ?? 0;
  const deviceBusy = threads.find((t) => t.tid !== process.pid)?.busy ?? 0;
  return { pps: w.packets / w.seconds, headroom: checkHeadroom({ sourceBusy, deviceBusy }) };
}

/**
 * The 64-NIC rows of `vnic bench virtio-net`: `rss-per-nic-mib` (RSS growth per NIC with 64 NICs
 * activated in the default configuration: shared IO threads), `rss-per-nic-dedicated-mib` (the
 * same with `ioThreads: 'dedicated'`, one thread per queue pair) and `tx-64B-64nics-mpps` (the
 * aggregate TX rate of the 64 shared NICs at once against one of them alone, in the same set-up:
 * ratio = aggregate / single, it should not collapse). The guests are RingRecyclers on the main
 * thread (each keeps its TX ring full of one 64-byte frame), so the IO threads are what is measured.
 */
export async function manyNicsRows(run: ManyNicsRun): Promise<BenchRow[]> {
  const count = run.nics ?? 64;
  const rows: BenchRow[] = [];
  let tx: { single: TxWindow; all: TxWindow; note: string } | undefined;
  run.ctx.progress(`memory: ${count} NICs activated in this process (shared IO threads), then TX 64 B on one and on all`);
  const shared = await rssPerNic(run, count, 'shared', async (nics) => {
    for (const n of nics) {
      await run.ns.moveLink(n.tap);
      await run.ns.setUp(n.tap);
    }
    const recs = nics.map((n) => {
      const frame = benchFrame(64, PEER_MAC, n.driver.readConfig().mac);
      const posted = n.driver.sendBatch(new Array<Uint8Array>(n.driver.queueSize).fill(frame));
      if (posted !== n.driver.queueSize) throw new CliError('invalid-state', `bench guest: posted ${posted} of ${n.driver.queueSize} TX chains`);
      return new RingRecycler(n.driver.memory, n.driver.queue(TX_QUEUE), () => n.driver.kick(TX_QUEUE));
    });
    const single = await txWindow(run, recs.slice(0, 1), nics.slice(0, 1));
    const all = await txWindow(run, recs, nics);
    const perNic = nics.map((n) => txPackets(n.device));
    const idle = perNic.filter((p) => p === 0).length;
    tx = {
      single,
      all,
      note: `${count} NICs on shared IO threads, each guest a ring recycler keeping its ring of ${nics[0]!.driver.queueSize} full; one window of ${run.seconds} s each; NICs that sent nothing: ${idle}; the guests of all NICs share the main thread`,
    };
  });
  rows.push(makeBenchRow(BENCH, 'rss-per-nic-mib', 'MiB', shared.mib, null, { note: shared.note, noLoad: 'a memory row' }));
  if (tx !== undefined)
    rows.push(
      makeBenchRow(BENCH, 'tx-64B-64nics-mpps', 'Mpps', round(tx.all.pps / 1e6), round(tx.single.pps / 1e6), {
        referenceName: 'one of them alone',
        note: tx.note,
        headroom: { [`${count} NICs`]: tx.all.headroom, 'one NIC': tx.single.headroom },
      }),
    );
  run.ctx.progress(`memory: ${count} NICs with dedicated IO threads (one per queue pair)`);
  const dedicated = await rssPerNic(run, count, 'dedicated');
  rows.push(makeBenchRow(BENCH, 'rss-per-nic-dedicated-mib', 'MiB', dedicated.mib, null, { note: dedicated.note, noLoad: 'a memory row' }));
  return rows;
}
