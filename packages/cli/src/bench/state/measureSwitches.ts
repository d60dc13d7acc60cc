import { createNetDevices, createVnicContainer } from '@vnic/config';
import { featureBit, NOTF_COAL_FEATURES } from '@vnic/core';
import { VIRTIO_NET_F_CTRL_GUEST_OFFLOADS } from '@vnic/core/virtio_net';
import { DRIVER_FEATURES, VirtioNetDriver } from '@vnic/driver';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Testpmd } from '../../peers/Testpmd.ts';
import type { BenchContext } from '../BenchContext.ts';
import { parseTestpmdForwardStats } from '../parseTestpmdForwardStats.ts';
import { macBytes } from './macBytes.ts';
import { SteadyStream } from './SteadyStream.ts';
import type { StreamSide } from './StreamSide.ts';
import { switchEntry } from './switchEntry.ts';
import { SwitchTap } from './SwitchTap.ts';

const MAC = '52:54:00:5b:7e:02';
const PEER = Uint8Array.of(0x02, 0, 0, 0, 0, 0x5b);
/** testpmd offers neither guest-offload control nor notification coalescing: a guest that acked them could not move to it. */
const FEATURES = DRIVER_FEATURES & ~featureBit(VIRTIO_NET_F_CTRL_GUEST_OFFLOADS) & ~NOTF_COAL_FEATURES;

/** Where one switch spent its time, in ms. */
export interface SwitchPhases {
  readonly quiesceSave: number;
  readonly restore: number;
  readonly firstFrame: number;
}

/** What measureSwitches() measured: per pair (`virtio-net-to-vhost-user`, ...) the quiesce-to-first-frame times, and the stream's loss. */
export interface SwitchMeasurements {
  /** Milliseconds from the quiesce to the first stream frame seen through the new backend, per switch, by pair. */
  readonly ms: ReadonlyMap<string, readonly number[]>;
  /** The same switches by phase (SwitchReport): quiesce + saveState, restore (the new data plane started), then to the first frame. */
  readonly phases: ReadonlyMap<string, readonly SwitchPhases[]>;
  /** Frames lost over the switches of each pair (the stream's frames never seen, in that pair's switch windows). */
  readonly lost: ReadonlyMap<string, number>;
  /** Frames sent in all, and testpmd's TX-dropped count (undefined without testpmd). */
  readonly sent: number;
  readonly testpmdTxDropped: number | undefined;
  /** Why the vhost-user pairs were not measured, when they were not. */
  readonly skipped: string | undefined;
}

/**
 * Moves one running NIC (SwitchableNetDevice, the TS driver as the guest, a steady UDP stream on
 * it: SteadyStream) `rounds` times around virtio-net (tap A) -> vhost-user (DPDK testpmd, macswap:
 * frames come back to the guest) -> virtio-net (tap A) -> virtio-net (tap B) -> virtio-net (tap A),
 * timing each switch from its quiesce (SwitchReport.quiescedAt) to the first stream frame seen
 * through the new backend (at the tap, or reflected back to the guest), and counting the frames
 * lost in each switch's window. Without testpmd only the virtio-net pair is measured.
 */
export async function measureSwitches(ctx: BenchContext, rounds: number): Promise<SwitchMeasurements> {
  const missing = Testpmd.ensure();
  const dir = mkdtempSync(join(tmpdir(), 'vnic-bench-sw-'));
  const sock = join(dir, 'switch.sock');
  const a = SwitchTap.create();
  let b: SwitchTap | undefined;
  const container = createVnicContainer();
  let pmd: Testpmd | undefined;
  let driver: VirtioNetDriver | undefined;
  let stream: SteadyStream | undefined;
  const ms = new Map<string, number[]>();
  const phases = new Map<string, SwitchPhases[]>();
  const windows = new Map<string, [number, number][]>();
  try {
    b = SwitchTap.create();
    if (missing === undefined) pmd = await Testpmd.start({ socket: sock });
    const vnA = switchEntry('bsw0', MAC, 'virtio-net', { tapFds: a.fds });
    const vnB = switchEntry('bsw0', MAC, 'virtio-net', { tapFds: b.fds });
    const vu = switchEntry('bsw0', MAC, 'vhost-user', { socket: sock, mode: 'client', reconnect: true, connectTimeoutMs: 5000, replyTimeoutMs: 5000 });
    const [nic] = await createNetDevices({ net: [vnA] }, { container, switchable: true });
    const sw = nic!;
    driver = await VirtioNetDriver.create({ device: sw, features: FEATURES, queuePairs: 1, queueSize: 256 });
    stream = new SteadyStream(driver, macBytes(MAC), PEER, [a, b]);
    stream.start(4, 1);
    const s = stream;
    let lastEnd = 0;
    const flowing = async (side: StreamSide, what: string): Promise<void> => {
      const before = s.count()[side];
      await s.waitFor(() => s.count()[side] > before, what);
    };
    const step = async (pair: string, entry: Record<string, unknown>, side: StreamSide): Promise<void> => {
      // Frames lost in an earlier window stay unseen: a window starts after the last one ended.
      const from = Math.max(s.oldestUnseen(), lastEnd);
      const before = s.count()[side];
      const report = await sw.switchBackend(entry);
      // The first frame through the new backend: polled without a timer (setImmediate) so the wait adds little.
      await s.waitFor(() => s.count()[side] > before, `the first frame after the switch ${pair}`, 0);
      const t = performance.now() - report.quiescedAt;
      const m = s.mark();
      await s.waitFor(() => s.seenSince(m), `traffic after the switch ${pair}`);
      ms.set(pair, [...(ms.get(pair) ?? []), t]);
      const started = report.startedAt - report.quiescedAt;
      phases.set(pair, [
        ...(phases.get(pair) ?? []),
        { quiesceSave: report.savedAt - report.quiescedAt, restore: report.startedAt - report.savedAt, firstFrame: t - started },
      ]);
      lastEnd = s.marks[m]!.firstSeen!;
      windows.set(pair, [...(windows.get(pair) ?? []), [from, lastEnd]]);
    };
    await flowing('atTap', 'the stream on virtio-net');
    if (pmd !== undefined) {
      // A warm-up round (testpmd drops a new port's first frames for about a second).
      await sw.switchBackend(vu);
      await s.waitFor(() => s.count().atGuest > 0, 'frames reflected by testpmd', 2, 20_000);
      await sw.switchBackend(vnA);
      await flowing('atTap', 'the stream back on virtio-net');
    }
    ctx.progress(`state: ${rounds} rounds of switches under a steady UDP stream${pmd === undefined ? ` (virtio-net only: ${missing})` : ''}`);
    for (let r = 0; r < rounds; r++) {
      if (pmd !== undefined) {
        await step('virtio-net-to-vhost-user', vu, 'atGuest');
        await step('vhost-user-to-virtio-net', vnA, 'atTap');
      }
      await step('virtio-net-to-virtio-net', vnB, 'atTap');
      await step('virtio-net-to-virtio-net', vnA, 'atTap');
    }
    const count = await stream.stop();
    stream = undefined;
    await pmd?.stop();
    const dropped = pmd === undefined ? undefined : parseTestpmdForwardStats(pmd.output).txDropped;
    const lostSet = new Set(count.lost);
    const lost = new Map<string, number>();
    for (const [pair, ws] of windows) {
      let n = 0;
      for (const [from, to] of ws) for (let q = from; q < to; q++) if (lostSet.has(q)) n++;
      lost.set(pair, n);
    }
    return {
      ms,
      phases,
      lost,
      sent: count.sent,
      testpmdTxDropped: dropped,
      skipped: pmd === undefined ? missing : undefined,
    };
  } finally {
    await stream?.stop(0);
    await driver?.close();
    await container.dispose();
    await pmd?.stop();
    a.close();
    b?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
