import { watch } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_NET_OFFLOADS, type NetDeviceConfig } from '@vnic/core';
import { VirtioNetDriver } from '@vnic/driver';
import { VhostUserNetDevice, type VhostUserOptions } from '@vnic/vhost-user';
import { CliError } from '../CliError.ts';
import { Testpmd } from '../peers/Testpmd.ts';
import type { Bench } from './Bench.ts';
import type { BenchContext } from './BenchContext.ts';
import { makeBenchRow } from './makeBenchRow.ts';

const BENCH = 'vhost-user';
const HANDSHAKES = 10;
const RECONNECTS = 5;
/** Frames in flight in the round trip: below the 256 posted RX buffers (testpmd drops what finds no buffer). */
const WINDOW = 192;
const BURST = 32;
/** The backend's forwarding lcore; the reference frontend's goes to the other CPU. */
const BACKEND_CPU = 1;
const REFERENCE_CPU = 0;
const MAC = Uint8Array.of(0x52, 0x54, 0x00, 0xbe, 0x0c, 0x01);
const PEER_MAC = Uint8Array.of(0x02, 0x00, 0x00, 0x00, 0x00, 0x01);

function nicConfig(n: number): NetDeviceConfig {
  return {
    id: `bench${n}`,
    backend: BENCH,
    mac: MAC,
    queuePairs: 1,
    queueSize: 256,
    offloads: DEFAULT_NET_OFFLOADS,
    mrgRxbuf: true,
    eventIdx: true,
    indirectDesc: true,
    ctrlVq: true,
    options: {},
  };
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
async function openNic(socket: string, n: number): Promise<{ device: VhostUserNetDevice; driver: VirtioNetDriver; close(): Promise<void> }> {
  const device = await VhostUserNetDevice.create(nicConfig(n), options(socket));
  let driver: VirtioNetDriver;
  try {
    driver = await VirtioNetDriver.create({ device });
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

/** Waits until a frame sent now comes back (macswap), sending one every few ms; resolves with the ms it took. */
async function firstFrameBack(driver: VirtioNetDriver, timeoutMs: number): Promise<number> {
  const f = frame64();
  const t0 = performance.now();
  while (performance.now() - t0 < timeoutMs) {
    driver.send(f);
    if ((await driver.receive(0, 2)) !== undefined) return performance.now() - t0;
  }
  throw new CliError('timeout', `vhost-user bench: no frame came back through testpmd within ${timeoutMs} ms`);
}

/** `handshake-ms`: connect, negotiate, memory table, rings, DRIVER_OK; median of HANDSHAKES. */
async function handshake(ctx: BenchContext, socket: string): Promise<void> {
  const samples: number[] = [];
  let mib = 0;
  for (let i = 0; i < HANDSHAKES; i++) {
    const t0 = performance.now();
    const nic = await openNic(socket, i);
    samples.push(performance.now() - t0);
    mib = Math.round((nic.driver.guestMemory?.layout.regions.reduce((n, r) => n + r.size, 0) ?? 0) / 2 ** 20);
    await nic.close();
  }
  ctx.row(
    makeBenchRow(BENCH, 'handshake-ms', 'ms', round(median(samples)), null, {
      note: `median of ${HANDSHAKES}, max ${max(samples)} ms: connect, features, protocol features (REPLY_ACK), SET_MEM_TABLE of ${mib} MiB guest RAM, 2 rings, SET_VRING_ENABLE, DRIVER_OK`,
    }),
  );
}

/** `reconnect-ms`: testpmd killed and started again; from its socket reappearing to a frame back. */
async function reconnect(ctx: BenchContext, socket: string, dir: string): Promise<void> {
  let pmd = await Testpmd.start({ socket, forwardingCpu: BACKEND_CPU });
  const nic = await openNic(socket, 100);
  const samples: number[] = [];
  const toLinkUp: number[] = [];
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
        await firstFrameBack(nic.driver, 10_000);
        const end = performance.now();
        if (appeared === 0) throw new CliError('command-failed', `vhost-user bench: the watch never saw ${socket} appear`);
        samples.push(end - appeared);
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
      note: `median of ${RECONNECTS} SIGKILL restarts, max ${max(samples)} ms: socket appears (inotify) -> connect, handshake replay, rings from used idx, link up (median ${median(toLinkUp).toFixed(1)} ms), first 64 B frame back`,
    }),
  );
}

/** `roundtrip-64B-mpps` with the TS driver as the load: 64 B frames out, macswapped back, counted. */
async function roundTrip(ctx: BenchContext, socket: string, seconds: number): Promise<number> {
  const pmd = await Testpmd.start({ socket, forwardingCpu: BACKEND_CPU });
  const nic = await openNic(socket, 200);
  try {
    const { driver } = nic;
    await firstFrameBack(driver, 10_000);
    while (driver.tryReceive() !== undefined);
    const burst = Array.from({ length: BURST }, frame64);
    let inFlight = 0;
    let received = 0;
    const warmupEnd = performance.now() + 500;
    let t0 = 0;
    let counted = 0;
    let lastProgress = performance.now();
    for (;;) {
      const now = performance.now();
      if (t0 === 0 && now >= warmupEnd) {
        t0 = now;
        counted = received;
      }
      if (t0 !== 0 && now - t0 >= seconds * 1000) break;
      if (now - lastProgress > 1000) {
        lastProgress = now;
        await new Promise((r) => setImmediate(r)); // let the device's event loop breathe once a second
      }
      if (inFlight + BURST <= WINDOW) inFlight += driver.sendBatch(burst);
      let got = 0;
      while (driver.tryReceive() !== undefined) got++;
      received += got;
      inFlight -= got;
      if (got === 0 && inFlight + BURST > WINDOW) {
        // The window is full and nothing came back: wait a little; nothing within 5 ms means the
        // backend dropped frames (it does when no RX buffer is free): open the window again.
        if ((await driver.receive(0, 5)) === undefined) inFlight = 0;
        else {
          received++;
          inFlight--;
        }
      }
    }
    const elapsed = (performance.now() - t0) / 1000;
    return (received - counted) / elapsed / 1e6;
  } finally {
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
      if (Date.now() > deadline) throw new CliError('timeout', `vhost-user bench: testpmd virtio_user printed no port statistics:\n${frontend.output.slice(-3000)}`);
      if (frontend.proc.exitCode !== null) throw new CliError('command-failed', `vhost-user bench: testpmd virtio_user exited:\n${frontend.output.slice(-3000)}`);
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
 * rate with the TS driver as the guest, against testpmd virtio_user <-> testpmd vhost measured in
 * the same run.
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
      ctx.progress(`round trip: ${seconds} s of 64 B frames through testpmd macswap (TS driver as the load)`);
      const vnic = await roundTrip(ctx, join(dir, 'rt.sock'), seconds);
      ctx.progress(`reference: testpmd virtio_user <-> testpmd vhost for ${seconds} s`);
      const ref = await reference(ctx, join(dir, 'ref.sock'), seconds);
      ctx.row(
        makeBenchRow(BENCH, 'roundtrip-64B-mpps', 'Mpps', round(vnic), round(ref), {
          referenceName: 'testpmd virtio_user <-> vhost',
          note: `frames back per second, window ${WINDOW}; vnic side: TS driver (one JS thread) as the guest`,
        }),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
