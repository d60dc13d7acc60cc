import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, watch } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { containerBackends, createVnicContainer, parseMac, validateVmConfig } from '@vnic/config';
import { formatConfigIssues, type NetDeviceConfig } from '@vnic/core';
import { VirtioNetDriver } from '@vnic/driver';
import { VhostUserNetDevice, type VhostUserOptions } from '@vnic/vhost-user';
import { CliError } from '../CliError.ts';
import { Testpmd } from '../peers/Testpmd.ts';
import type { Bench } from './Bench.ts';
import type { BenchContext } from './BenchContext.ts';
import { checkHeadroom } from './checkHeadroom.ts';
import type { Headroom } from './Headroom.ts';
import { makeBenchRow } from './makeBenchRow.ts';
import { busiestThreads } from './virtioNet/busiestThreads.ts';
import { RingRecycler } from './virtioNet/RingRecycler.ts';
import { runGuestWindow } from './virtioNet/runGuestWindow.ts';
import { threadCpu } from './virtioNet/threadCpu.ts';

const BENCH = 'vhost-user';
/** What DPDK's vhost library logs when it accepts a frontend's connection. */
const ACCEPT_LOG = 'new vhost user connection';
const HANDSHAKES = 10;
const RECONNECTS = 5;
/**
 * Ring size of the round-trip NIC: the lean guest recycles in batches; a deep ring keeps
 * testpmd's lcore from running dry between two of them.
 */
const RT_QUEUE_SIZE = 1024;
/** The backend's forwarding lcore; the reference frontend's goes to the other CPU. */
const BACKEND_CPU = 1;
const REFERENCE_CPU = 0;
const MAC_TEXT = '52:54:00:be:0c:01';
const MAC = parseMac(MAC_TEXT);
const PEER_MAC = Uint8Array.of(0x02, 0x00, 0x00, 0x00, 0x00, 0x01);

/**
 * The bench NIC's config, through the same validation a VMM's config goes through (defaults for
 * everything left out: 1 queue pair of 256, all offloads, MRG_RXBUF, EVENT_IDX, control queue).
 */
function nicConfig(n: number, socket: string, queueSize?: number): NetDeviceConfig {
  const entry = { id: `bench${n}`, backend: BENCH, mac: MAC_TEXT, ...(queueSize === undefined ? {} : { queueSize }), [BENCH]: { socket } };
  const { issues, net } = validateVmConfig({ net: [entry] }, containerBackends(createVnicContainer()));
  if (issues.length > 0 || net[0] === undefined) {
    throw new CliError('invalid-argument', `vhost-user bench: its NIC config is refused: ${formatConfigIssues(issues)}`);
  }
  return net[0];
}

function options(socket: string): VhostUserOptions {
  return { socket, mode: 'client', reconnect: true, connectTimeoutMs: 10_000, replyTimeoutMs: 5000 };
}

/** A 64-byte frame (no FCS) from the NIC to the peer: what the round trip sends. */
function frame64(): Uint8Array {
  const f = new Uint8Array(64);
  f.set(PEER_MAC, 0);
  f.set(MAC, 6);
  f[12] = 0x88;
  f[13] = 0xb5;
  return f;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const round = (v: number, digits = 3): number => Math.round(v * 10 ** digits) / 10 ** digits;

/** One NIC on `socket` with a driver at DRIVER_OK; close() releases both. */
async function openNic(
  socket: string,
  n: number,
  queueSize?: number,
): Promise<{ device: VhostUserNetDevice; driver: VirtioNetDriver; close(): Promise<void> }> {
  const device = await VhostUserNetDevice.create(nicConfig(n, socket, queueSize), options(socket));
  let driver: VirtioNetDriver;
  try {
    driver = await VirtioNetDriver.create(queueSize === undefined ? { device } : { device, queueSize });
  } catch (err) {
    await device.close();
    throw err;
  }
  return {
    device,
    driver,
    async close() {
      await driver.close();
      await device.close();
    },
  };
}

let probeSeq = 0;

/**
 * Waits until a frame sent now comes back (macswap), sending a numbered one every few ms; frames
 * from before the call (numbered lower) are skipped. Resolves with the ms it took.
 */
async function firstFrameBack(driver: VirtioNetDriver, timeoutMs: number): Promise<number> {
  const first = ++probeSeq;
  const t0 = performance.now();
  while (performance.now() - t0 < timeoutMs) {
    const f = frame64();
    new DataView(f.buffer).setUint32(14, ++probeSeq);
    driver.send(f);
    for (let r = await driver.receive(0, 2); r !== undefined; r = driver.tryReceive()) {
      if (r.frame.length >= 18 && new DataView(r.frame.buffer, r.frame.byteOffset).getUint32(14) >= first) return performance.now() - t0;
    }
  }
  throw new CliError('timeout', `vhost-user bench: no frame came back through testpmd within ${timeoutMs} ms`);
}

/** `handshake-ms`: connect, negotiate, memory table, rings, DRIVER_OK; median of HANDSHAKES. */
async function handshake(ctx: BenchContext, socket: string): Promise<void> {
  const samples: number[] = [];
  let mib = 0;
  // Not counted: DPDK serves the first connection after it started listening only when its
  // vhost event thread's 1 s poll() comes round (reconnect-ms shows that cost).
  await (await openNic(socket, 99)).close();
  for (let i = 0; i < HANDSHAKES; i++) {
    const t0 = performance.now();
    const nic = await openNic(socket, i);
    samples.push(performance.now() - t0);
    mib = Math.round((nic.driver.guestMemory?.layout.regions.reduce((n, r) => n + r.size, 0) ?? 0) / 2 ** 20);
    await nic.close();
  }
  ctx.row(
    makeBenchRow(BENCH, 'handshake-ms', 'ms', round(median(samples)), null, {
      note: `median of ${HANDSHAKES} after one warm-up connection, max ${max(samples)} ms: connect, features, protocol features (REPLY_ACK), SET_MEM_TABLE of ${mib} MiB guest RAM, 2 rings, SET_VRING_ENABLE, DRIVER_OK`,
      noLoad: 'a control-plane time',
    }),
  );
}

/** `reconnect-ms`: testpmd killed and started again; from its socket reappearing to a frame back. */
async function reconnect(ctx: BenchContext, socket: string, dir: string): Promise<void> {
  let pmd = await Testpmd.start({ socket, forwardingCpu: BACKEND_CPU });
  const nic = await openNic(socket, 100);
  const samples: number[] = [];
  const toLinkUp: number[] = [];
  const afterAccept: number[] = [];
  const toAccept: number[] = [];
  try {
    await firstFrameBack(nic.driver, 10_000);
    for (let i = 0; i < RECONNECTS; i++) {
      await pmd.kill();
      rmSync(socket, { force: true }); // a killed testpmd leaves its socket file behind
      while (nic.device.linkUp) await new Promise((r) => setTimeout(r, 1));
      nic.driver.reclaim();
      // The moment the socket reappears, seen through inotify as vnic sees it.
      let appeared = 0;
      let linkUp = 0;
      const name = socket.slice(dir.length + 1);
      const w = watch(dir, (_e, file) => {
        if (appeared === 0 && file?.toString() === name) appeared = performance.now();
      });
      const onLink = (up: boolean): void => {
        if (up && linkUp === 0) linkUp = performance.now();
      };
      nic.device.events.on('link', onLink);
      try {
        pmd = await Testpmd.start({ socket, forwardingCpu: BACKEND_CPU });
        // When DPDK accepted the connection: it logs it (rte_log flushes each line).
        let accepted = 0;
        const started = pmd;
        const onOutput = (): void => {
          // Testpmd's own listener ran first: its output holds this chunk (a line may span chunks).
          if (accepted === 0 && started.output.includes(ACCEPT_LOG)) accepted = performance.now();
        };
        onOutput();
        pmd.proc.stdout?.on('data', onOutput);
        pmd.proc.stderr?.on('data', onOutput);
        await firstFrameBack(nic.driver, 10_000);
        const end = performance.now();
        if (appeared === 0) throw new CliError('command-failed', `vhost-user bench: the watch never saw ${socket} appear`);
        if (accepted === 0) throw new CliError('command-failed', `vhost-user bench: testpmd never logged "${ACCEPT_LOG}"`);
        samples.push(end - appeared);
        afterAccept.push(end - accepted);
        toAccept.push(accepted - appeared);
        // The link goes up when the replay is complete, which may be just after the first frame.
        const linkDeadline = Date.now() + 5000;
        while (linkUp === 0) {
          if (Date.now() > linkDeadline) throw new CliError('timeout', `vhost-user bench: frames flow but the link stayed down 5 s after the reconnection`);
          await new Promise((r) => setTimeout(r, 1));
        }
        toLinkUp.push(linkUp - appeared);
      } finally {
        nic.device.events.off('link', onLink);
        w.close();
      }
    }
  } finally {
    await nic.close();
    await pmd.stop();
  }
  ctx.row(
    makeBenchRow(BENCH, 'reconnect-ms', 'ms', round(median(samples)), null, {
      note: `median of ${RECONNECTS} SIGKILL restarts, max ${max(samples)} ms: socket appears (inotify) -> first 64 B frame back; testpmd accepted the connection after a median ${median(toAccept).toFixed(0)} ms (EAL init between bind and listen, DPDK's 1 s fdset poll); link up after ${median(toLinkUp).toFixed(0)} ms`,
      noLoad: 'a control-plane time',
    }),
  );
  ctx.row(
    makeBenchRow(BENCH, 'reconnect-after-accept-ms', 'ms', round(median(afterAccept)), null, {
      note: `median of ${RECONNECTS}, max ${max(afterAccept)} ms: testpmd logs the accept -> handshake replay, SET_MEM_TABLE, rings from used idx, DPDK ready, first 64 B frame back (the part the frontend decides)`,
      noLoad: 'a control-plane time',
    }),
  );
}

/**
 * Pins this process's main thread (its tid is the pid) to `cpus` with taskset; returns a function
 * that restores the previous affinity. No-op (restores nothing) when taskset is unavailable.
 */
function pinMainThread(cpus: string): () => void {
  const pid = String(process.pid);
  try {
    const before = /affinity list:\s*(\S+)/.exec(execFileSync('taskset', ['-pc', pid], { encoding: 'utf8' }))?.[1];
    execFileSync('taskset', ['-pc', cpus, pid], { stdio: 'pipe' });
    return () => {
      if (before !== undefined) execFileSync('taskset', ['-pc', before, pid], { stdio: 'pipe' });
    };
  } catch {
    return () => {};
  }
}

/** What the round trip measured on the vnic side. */
interface RoundTrip {
  readonly mpps: number;
  readonly headroom: Headroom;
  readonly note: string;
}

/**
 * `roundtrip-64B-mpps` through vnic's frontend: the driver negotiates and fills both rings (every
 * TX slot one 64 B frame, every RX buffer posted), then a lean guest on the main thread (pinned to
 * the CPU testpmd's forwarding lcore does not poll, as the reference's frontend lcore is) keeps
 * them full: each used TX head straight back into avail, each filled RX buffer straight back
 * (RingRecycler, polling without sleeping as a DPDK guest does), so testpmd's vhost data plane on
 * the rings and memory vnic set up is what is measured, not the TypeScript driver's send/receive.
 * Counted on the RX used ring (frames that made the whole round trip).
 */
async function roundTrip(ctx: BenchContext, socket: string, seconds: number): Promise<RoundTrip> {
  const pmd = await Testpmd.start({ socket, forwardingCpu: BACKEND_CPU });
  const nic = await openNic(socket, 200, RT_QUEUE_SIZE);
  const unpin = pinMainThread(String(REFERENCE_CPU));
  try {
    const { driver } = nic;
    await firstFrameBack(driver, 10_000);
    while (driver.tryReceive() !== undefined);
    await driver.flushTx(0, 2000);
    const posted = driver.sendBatch(new Array<Uint8Array>(driver.queueSize).fill(frame64()));
    if (posted !== driver.queueSize) throw new CliError('invalid-state', `vhost-user bench: posted ${posted} of ${driver.queueSize} TX chains`);
    const tx = new RingRecycler(driver.memory, driver.queue(1), () => driver.kick(1));
    const rx = new RingRecycler(driver.memory, driver.queue(0), () => driver.kick(0));
    const guest = {
      pump: (): number => tx.pump() + rx.pump(),
      get elements(): number {
        return rx.elements;
      },
    };
    const pid = pmd.proc.pid;
    if (pid === undefined) throw new CliError('command-failed', 'vhost-user bench: testpmd has no pid');
    const threads0 = threadCpu(pid);
    const wall0 = performance.now();
    const w = await runGuestWindow(guest, { warmupMs: 500, seconds, counter: () => rx.elements, interrupted: () => false, idleMs: 0 });
    const lcore = busiestThreads(threads0, threadCpu(pid), (performance.now() - wall0) / 1000)[0];
    if (rx.zeroLength > 0) throw new CliError('invalid-state', `vhost-user bench: ${rx.zeroLength} RX buffers came back empty`);
    if (w.packets === 0) throw new CliError('command-failed', 'vhost-user bench: no frame came back through testpmd');
    // The guest polls without sleeping: its share of the window spent recycling is its load.
    const headroom = checkHeadroom({ sourceBusy: w.busySeconds / w.seconds, deviceBusy: lcore?.busy ?? 0 });
    const note = `lean ring-recycling guest (rings of ${driver.queueSize}, polled on CPU ${REFERENCE_CPU}): ${w.packets} frames back in the window, TX ${tx.elements} / RX ${rx.elements} recycled, ${tx.kicks + rx.kicks} kicks; testpmd's busiest thread ${lcore?.comm ?? '?'}`;
    return { mpps: w.packets / w.seconds / 1e6, headroom, note };
  } finally {
    unpin();
    await nic.close();
    await pmd.stop();
  }
}

/** The reference: testpmd virtio_user (io, --tx-first) looping 64 B frames through testpmd vhost (macswap). */
async function reference(ctx: BenchContext, socket: string, seconds: number): Promise<number> {
  const backend = await Testpmd.start({ socket, forwardingCpu: BACKEND_CPU });
  let frontend: Testpmd | undefined;
  try {
    frontend = await Testpmd.start({ socket, role: 'virtio-user', forwardMode: 'io', txFirst: true, statsPeriod: 1, forwardingCpu: REFERENCE_CPU });
    await frontend.waitForwarding();
    const want = Math.max(2, Math.round(seconds)) + 1; // the first period includes start-up
    const deadline = Date.now() + (want + 10) * 1000;
    while (frontend.rxPps(0).length < want) {
      if (Date.now() > deadline)
        throw new CliError('timeout', `vhost-user bench: testpmd virtio_user printed no port statistics:\n${frontend.output.slice(-3000)}`);
      if (frontend.proc.exitCode !== null)
        throw new CliError('command-failed', `vhost-user bench: testpmd virtio_user exited:\n${frontend.output.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const pps = frontend.rxPps(0).slice(1);
    ctx.progress(`reference samples (Rx-pps): ${pps.join(', ')}`);
    return median(pps) / 1e6;
  } finally {
    await frontend?.stop();
    await backend.stop();
  }
}

function max(xs: readonly number[]): string {
  return Math.max(...xs).toFixed(1);
}

/**
 * `vnic bench vhost-user`: the vhost-user frontend against DPDK testpmd (net_vhost, macswap, no
 * hugepages): handshake time, reconnect time after a SIGKILL restart, and the 64 B round-trip
 * rate on the rings vnic set up (a lean ring-recycling guest, so testpmd's data plane is what is
 * measured), against testpmd virtio_user <-> testpmd vhost measured in the same run.
 */
export const vhostUserBench: Bench = {
  name: BENCH,
  description: 'vhost-user frontend vs DPDK testpmd: handshake-ms, reconnect-ms, roundtrip-64B-mpps (reference: testpmd virtio_user)',
  async unavailable() {
    if (process.getuid?.() !== 0) return 'DPDK testpmd without hugepages needs root';
    return Testpmd.ensure();
  },
  async run(ctx) {
    const seconds = ctx.seconds ?? 3;
    const dir = mkdtempSync(join(tmpdir(), 'vnic-bench-vu-'));
    try {
      ctx.progress(`handshake: ${HANDSHAKES} connections to testpmd`);
      const pmd = await Testpmd.start({ socket: join(dir, 'hs.sock'), forwardingCpu: BACKEND_CPU });
      try {
        await handshake(ctx, join(dir, 'hs.sock'));
      } finally {
        await pmd.stop();
      }
      ctx.progress(`reconnect: ${RECONNECTS} testpmd SIGKILL restarts`);
      await reconnect(ctx, join(dir, 're.sock'), dir);
      ctx.progress(`round trip: ${seconds} s of 64 B frames through testpmd macswap (lean ring-recycling guest as the load)`);
      const vnic = await roundTrip(ctx, join(dir, 'rt.sock'), seconds);
      ctx.progress(`reference: testpmd virtio_user <-> testpmd vhost for ${seconds} s`);
      const ref = await reference(ctx, join(dir, 'ref.sock'), seconds);
      ctx.row(
        makeBenchRow(BENCH, 'roundtrip-64B-mpps', 'Mpps', round(vnic.mpps), round(ref), {
          referenceName: 'testpmd virtio_user <-> vhost',
          note: `frames back per second, ${seconds} s after 0.5 s warm-up; vnic: ${vnic.note}; reference: testpmd's own frontend PMD (a closed DPDK loop: no load to check)`,
          headroom: { vnic: vnic.headroom },
        }),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
