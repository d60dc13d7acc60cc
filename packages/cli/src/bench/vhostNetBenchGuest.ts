// Runs INSIDE the test VM (started by vhostNetBench through @vnic/testvm): measures 64-byte TX and
// RX packet rates of the vhost-net backend and of the in-process virtio-net backend, each with the
// same TS driver as the guest and the same tap setup (a tap in a fresh network namespace, IPv6
// off, no address). TX: the driver sends batches as fast as the backend takes them (frames leave
// into the namespace, where the kernel drops them). RX: a C AF_PACKET flooder (compiled on the host
// before boot) writes 64-byte frames into the tap from the namespace side; the driver takes what
// the backend delivers. Prints one `VNIC_BENCH_RESULT {json}` line per measurement.
// Usage: tsx vhostNetBenchGuest.ts <seconds> <flooder binary>
import { spawn } from 'node:child_process';
import type { NetDeviceConfig, VirtioNetDevice } from '@vnic/core';
import { VirtioNetDriver } from '@vnic/driver';
import { VhostNetDevice } from '@vnic/vhost-net';
import { shutdownIoThreads, VirtioNetTapDevice } from '@vnic/virtio-net';
import { Netns } from '../../../sys/src/testing/Netns.ts';
import { benchNicConfig } from './benchNicConfig.ts';
import { uniqueName } from '../../../sys/src/testing/uniqueName.ts';

type Backend = 'vhost-net' | 'virtio-net';
const MAC = Uint8Array.of(0x52, 0x54, 0x00, 0x7e, 0x50, 0x01);
const FRAME = 64;
const BATCH = 128;

const seconds = Number(process.argv[2] ?? '3');
const flooder = process.argv[3] ?? '';

function config(backend: Backend, tap: string): NetDeviceConfig {
  return benchNicConfig(`bench-${backend}`, backend, MAC, { tap });
}

function open(backend: Backend, c: NetDeviceConfig): VirtioNetDevice & { tapName: string } {
  return backend === 'vhost-net' ? VhostNetDevice.open(c) : VirtioNetTapDevice.open(c);
}

const yieldLoop = (): Promise<void> => new Promise((r) => setImmediate(r));

async function withNic<T>(backend: Backend, body: (driver: VirtioNetDriver, ns: Netns, tap: string) => Promise<T>): Promise<T> {
  const ns = Netns.create('vnbh');
  let device: (VirtioNetDevice & { tapName: string }) | undefined;
  let driver: VirtioNetDriver | undefined;
  try {
    ns.exec('sysctl', '-qw', 'net.ipv6.conf.default.disable_ipv6=1', 'net.ipv6.conf.all.disable_ipv6=1');
    device = open(backend, config(backend, uniqueName('vnb')));
    ns.adopt(device.tapName);
    ns.ip('link', 'set', device.tapName, 'up');
    driver = await VirtioNetDriver.create({ device });
    return await body(driver, ns, device.tapName);
  } finally {
    await driver?.close();
    await device?.close();
    ns.delete();
  }
}

/** Frames per second the backend took from the driver's TX ring. */
async function tx(backend: Backend): Promise<number> {
  return withNic(backend, async (driver) => {
    const frames = Array.from({ length: BATCH }, (_, i) => {
      const f = new Uint8Array(FRAME);
      f.set([0x02, 0, 0, 0, 0x50, 0x02], 0); // to a MAC nobody has: the namespace drops it at once
      f.set(MAC, 6);
      f[12] = 0x88;
      f[13] = 0xb5;
      f[14] = i;
      return f;
    });
    // Warm-up, then the measured window.
    const warm = Date.now() + 300;
    while (Date.now() < warm) if (driver.sendBatch(frames) === 0) await yieldLoop();
    await driver.flushTx(0, 10_000);
    let posted = 0;
    let spins = 0;
    const t0 = performance.now();
    const end = t0 + seconds * 1000;
    while (performance.now() < end) {
      const n = driver.sendBatch(frames);
      posted += n;
      if (n === 0 || ++spins % 64 === 0) await yieldLoop();
    }
    await driver.flushTx(0, 10_000);
    return posted / ((performance.now() - t0) / 1000);
  });
}

/** Frames per second the driver received while the flooder wrote 64-byte frames into the tap. */
async function rx(backend: Backend): Promise<number> {
  return withNic(backend, async (driver, ns, tap) => {
    // nice 19: the load fills the tap whenever a CPU is idle but does not starve the backend and the driver.
    const child = spawn('ip', ['netns', 'exec', ns.name, 'nice', '-n', '19', flooder, tap, String(seconds + 2), Buffer.from(MAC).toString('hex')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    try {
      // Wait for the first frame (the flooder started), then count for `seconds`.
      if ((await driver.receive(0, 20_000)) === undefined) throw new Error(`no frame from the flooder: ${err}`);
      let got = 0;
      let idle = 0;
      const t0 = performance.now();
      const end = t0 + seconds * 1000;
      while (performance.now() < end) {
        if (driver.tryReceive(0) !== undefined) got++;
        else if (++idle % 16 === 0) await yieldLoop();
      }
      return got / ((performance.now() - t0) / 1000);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });
}

for (const [metric, fn] of [
  ['tx-64B-mpps', tx],
  ['rx-64B-mpps', rx],
] as const) {
  for (const backend of ['vhost-net', 'virtio-net'] as const) {
    const pps = await fn(backend);
    process.stdout.write(`VNIC_BENCH_RESULT ${JSON.stringify({ metric, backend, pps })}\n`);
  }
}
await shutdownIoThreads();
