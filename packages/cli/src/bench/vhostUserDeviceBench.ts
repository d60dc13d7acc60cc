import { readFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VhostUserDeviceServer } from '@vnic/vhost-user-device';
import { TX_ENGINE_ENV } from '@vnic/virtio-net';
import { CliError } from '../CliError.ts';
import { Netns } from '../netns/Netns.ts';
import { uniqueName } from '../netns/uniqueName.ts';
import { Testpmd } from '../peers/Testpmd.ts';
import type { Bench } from './Bench.ts';
import type { BenchContext } from './BenchContext.ts';
import { checkHeadroom } from './checkHeadroom.ts';
import type { Headroom } from './Headroom.ts';
import { makeBenchRow } from './makeBenchRow.ts';
import { parseTestpmdForwardStats } from './parseTestpmdForwardStats.ts';

const BENCH = 'vhost-user-device';
/** The load generator's busy-polling lcore; the device side (vnic's IO thread, or testpmd) gets the other CPU. */
const LOAD_CPU = 0;
const DEVICE_CPU = 1;
const WARMUP_MS = 1000;

const round = (v: number, digits = 3): number => Math.round(v * 10 ** digits) / 10 ** digits;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Frames per second the tap received (frames written to its fd), over `seconds` after a warm-up. */
async function tapRxRate(read: () => Promise<number> | number, seconds: number): Promise<number> {
  await sleep(WARMUP_MS);
  const c0 = await read();
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const c1 = await read();
  return (c1 - c0) / ((performance.now() - t0) / 1000);
}

/** The load: testpmd net_virtio_user in txonly mode, `len`-byte frames, as fast as the backend takes them. */
function startLoad(socket: string, len: number): Promise<Testpmd> {
  return Testpmd.start({ socket, role: 'virtio-user', forwardMode: 'txonly', txPktLen: len, forwardingCpu: LOAD_CPU });
}

/**
 * Stops the load and checks its headroom from its own totals: the frames txonly built (TX-total:
 * those the device's ring took + those refused for lack of room) against those taken.
 */
async function stopLoad(load: Testpmd): Promise<Headroom> {
  await load.stop();
  const s = parseTestpmdForwardStats(load.output, 0);
  return checkHeadroom({ offered: s.txPackets + s.txDropped, measured: s.txPackets });
}

/** What one side measured: frames per second on the tap, and the load check. */
interface Measured {
  readonly pps: number;
  readonly headroom: Headroom;
}

/** vnic in the backend seat: VhostUserDeviceServer (one queue pair, one IO thread), its tap in a namespace. */
async function measureVnic(ctx: BenchContext, dir: string, len: number, seconds: number): Promise<Measured> {
  const socket = join(dir, `vnic-${len}.sock`);
  const ns = await Netns.create('vnbud');
  let server: VhostUserDeviceServer | undefined;
  let load: Testpmd | undefined;
  try {
    // DPDK's memfds are not sealed: the bench accepts them, as an operator would with --allow-unsealed-memory.
    server = VhostUserDeviceServer.open({ socket, tap: uniqueName('vbud'), allowUnsealedMemory: true });
    const tap = server.tapName;
    await ns.moveLink(tap);
    await ns.setUp(tap);
    const running = new Promise<void>((resolve) => server!.events.on('rings-started', (r) => r.tx && resolve()));
    server.start();
    load = await startLoad(socket, len);
    await load.waitForwarding();
    await Promise.race([
      running,
      sleep(10_000).then(() => Promise.reject(new CliError('timeout', `${BENCH}: the virtio_user frontend did not start its rings within 10 s`))),
    ]);
    ctx.progress(`vnic: ${len} B frames, testpmd txonly -> vnic -> tap ${tap} for ${seconds} s`);
    const rate = await tapRxRate(async () => (await ns.linkStats(tap)).rx.packets, seconds);
    const [, tx] = server.stats();
    if (tx === undefined || tx.packets === 0) throw new CliError('command-failed', `${BENCH}: vnic moved no frame`);
    return { pps: rate, headroom: await stopLoad(load) };
  } finally {
    await load?.stop();
    await server?.close();
    await ns.delete();
  }
}

/** The same path built from DPDK alone: testpmd with the vhost PMD and the tap PMD (net_tap), io forwarding. */
async function measureReference(ctx: BenchContext, dir: string, len: number, seconds: number): Promise<Measured> {
  const socket = join(dir, `ref-${len}.sock`);
  const tap = uniqueName('vbrf');
  const device = await Testpmd.start({ socket, tap2: tap, forwardMode: 'io', forwardingCpu: DEVICE_CPU });
  let load: Testpmd | undefined;
  try {
    load = await startLoad(socket, len);
    await load.waitForwarding();
    await device.waitForwarding();
    ctx.progress(`reference: ${len} B frames, testpmd txonly -> testpmd vhost PMD -> net_tap ${tap} for ${seconds} s`);
    const pps = await tapRxRate(() => Number(readFileSync(`/sys/class/net/${tap}/statistics/rx_packets`, 'utf8')), seconds);
    return { pps, headroom: await stopLoad(load) };
  } finally {
    await load?.stop();
    await device.stop();
  }
}

/**
 * `vnic bench vhost-user-device`: vnic as the vhost-user backend (VhostUserDeviceServer) with
 * DPDK virtio_user (testpmd txonly) as the load, frames to a tap; against testpmd with the vhost
 * PMD forwarding to DPDK's tap PMD, measured in the same run: frames/s at 64 B and Gbit/s at
 * 1514 B, counted by the kernel on the receiving tap.
 */
export const vhostUserDeviceBench: Bench = {
  name: BENCH,
  description: 'vnic as a vhost-user backend (testpmd virtio_user txonly -> vnic -> tap): tx-64B-mpps, tx-1514B-gbps (reference: testpmd vhost PMD -> net_tap)',
  async unavailable() {
    if (process.getuid?.() !== 0) return 'a tap, a network namespace and DPDK testpmd without hugepages need root';
    return Testpmd.ensure();
  },
  async run(ctx) {
    const seconds = ctx.seconds ?? 3;
    const dir = mkdtempSync(join(tmpdir(), 'vnic-bench-vud-'));
    try {
      for (const len of [64, 1514]) {
        const v = await measureVnic(ctx, dir, len, seconds);
        const r = await measureReference(ctx, dir, len, seconds);
        const [vnic, ref] = [v.pps, r.pps];
        const headroom = { vnic: v.headroom, reference: r.headroom };
        const note = `${seconds} s after ${WARMUP_MS} ms warm-up, frames counted by the kernel on the receiving tap (rx_packets); load: testpmd net_virtio_user txonly on CPU ${LOAD_CPU}; vnic: one IO thread (TX engine ${process.env[TX_ENGINE_ENV] === 'writev' ? 'writev per frame' : 'io_uring, up to 64 frames per io_uring_enter'})`;
        if (len === 64) {
          ctx.row(
            makeBenchRow(BENCH, 'tx-64B-mpps', 'Mpps', round(vnic / 1e6), round(ref / 1e6), { referenceName: 'testpmd vhost PMD -> net_tap', note, headroom }),
          );
        } else {
          const gbps = (pps: number): number => round((pps * len * 8) / 1e9);
          ctx.row(
            makeBenchRow(BENCH, 'tx-1514B-gbps', 'Gbit/s', gbps(vnic), gbps(ref), {
              referenceName: 'testpmd vhost PMD -> net_tap',
              note: `${note}; ${round(vnic / 1e6)} vs ${round(ref / 1e6)} Mpps`,
              headroom,
            }),
          );
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
