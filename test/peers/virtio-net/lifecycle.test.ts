import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import { testNetConfig } from '@vnic/core/testing';
import { VirtioNetDriver } from '@vnic/driver';
import { RX_ENGINE_ENV, TX_ENGINE_ENV, VirtioNetTapDevice } from '@vnic/virtio-net';
import { beforeAll, describe, expect, it } from 'vitest';
import { IoThreadPool } from '@vnic/virtio-net';
import { fdCount, hostTapPeer, uniqueName } from '@vnic/sys/testing';
import { OUTSIDE_MAC, testFrame } from '../../conformance/frames.ts';

// Many life cycles must leave no fd, thread or mapping behind. Every activation uses two queue
// pairs (two IO threads) and moves a frame; the taps stay down in the host namespace without an
// address, so nothing reaches the host's network (the frames are dropped and counted).
//
// IO threads are pooled (IoThreadPool): reset hands them back, the next activation reuses them,
// and closing the last device terminates them.
//
// Mappings: every mapping vnic makes is of an fd (MemfdGuestMemory's guest RAM, IoUring's rings,
// SharedMapping), so it has a name in /proc/self/maps (`/memfd:...`, `anon_inode:[io_uring]`, a
// device). Those are compared exactly. The anonymous mappings are V8's and libc's (heap pages,
// arenas: their count drifts on its own) and koffi 3.3's (three per thread it ever ran in, never
// freed): not vnic's, so not counted; a thread left behind shows in the task count.

const CYCLES = 200;
/**
 * Full cycles (a tap, two IO threads started and ended each): fewer than CYCLES, as every count
 * compared is exact, so one leaked fd, thread or mapping per cycle already fails; 200 of them took
 * over a minute on a loaded 2-core machine.
 */
const FULL_CYCLES = 40;
const MAC = Uint8Array.of(0x52, 0x54, 0x00, 0x7e, 0x05, 0x02);

const threads = (): number => readdirSync('/proc/self/task').length;
/** What /proc/self/fd/<fd> points at ('' when the fd closed meanwhile). */
const fdLink = (fd: string): string => {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return '';
  }
};

function open(i: number): VirtioNetTapDevice {
  return VirtioNetTapDevice.open(
    testNetConfig({ id: `vnt-life${i}`, backend: 'virtio-net', mac: MAC, queuePairs: 2, queueSize: 64, options: { tap: uniqueName('vnl') } }),
  );
}

/** Activates `device` with two pairs (a driver brings it up), moves a frame, resets it. */
async function activateAndReset(device: VirtioNetTapDevice, i: number): Promise<void> {
  const driver = await VirtioNetDriver.create({ device, queuePairs: 2, queueSize: 64 });
  try {
    expect(device.activated).toBe(true);
    // The mappings compared at the end are the ones a cycle makes: the guest RAM's memfd at least.
    if (i === 0) expect(fdMappings().filter((p) => p.startsWith('/memfd:vnic-driver-'))).not.toEqual([]);
    driver.send(testFrame(OUTSIDE_MAC, MAC, i, 64)); // dropped: the tap is down (counted)
    await driver.flushTx();
  } finally {
    await driver.close(); // reset: both IO threads stop and go back to the pool
  }
  expect(device.activated).toBe(false);
}

async function fullCycle(i: number): Promise<void> {
  const device = open(i);
  const name = device.tapName;
  try {
    await activateAndReset(device, i);
  } finally {
    await device.close();
  }
  expect(existsSync(`/sys/class/net/${name}`)).toBe(false);
}

/** Waits (up to 2 s) until at most `expected` threads run: an exited thread's task entry can linger a moment. */
async function settle(expected: number): Promise<void> {
  const deadline = Date.now() + 2000;
  while (threads() > expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
}

/** The fd-backed mappings that are not files on disk (memfd, anon_inode, devices): what vnic maps, sorted. */
function fdMappings(): string[] {
  return fdCount
    .mapLines()
    .map((l) => l.split(/\s+/).slice(5).join(' '))
    .filter((p) => p.startsWith('/memfd:') || p.startsWith('anon_inode:') || p.includes('[io_uring]') || p.startsWith('/dev/'))
    .sort();
}

function snapshot(): { fds: number; tasks: number; maps: string[]; started: number } {
  return { fds: fdCount.fds(), tasks: threads(), maps: fdMappings(), started: IoThreadPool.started };
}

const peer = hostTapPeer();

describe.skipIf(peer.skip)('virtio-net backend: no leaks over many life cycles', () => {
  beforeAll(async () => {
    if (peer.reason !== undefined) throw new Error(`host kernel tap peer missing: ${peer.reason}`);
    const before = threads();
    // Warm up lazily created state: the IO thread bundle, koffi's pools, V8's code space.
    for (let i = 0; i < 3; i++) await fullCycle(-1 - i);
    await settle(before);
  });

  it(
    'TX and RX each use one io_uring per IO thread while active (none with VNIC_VIRTIO_NET_TX=writev / VNIC_VIRTIO_NET_RX=readv); reset releases them',
    { timeout: 90_000 },
    async () => {
      const rings = (): number => readdirSync('/proc/self/fd').filter((fd) => fdLink(fd) === 'anon_inode:[io_uring]').length;
      const ringMaps = (): number => fdCount.mapLines().filter((l) => l.includes('[io_uring]')).length;
      const before = { rings: rings(), maps: ringMaps() };
      const device = open(900);
      const saved = { tx: process.env[TX_ENGINE_ENV], rx: process.env[RX_ENGINE_ENV] };
      const restore = (name: string, value: string | undefined): void => {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      };
      try {
        // [TX engine, RX engine, io_uring instances per IO thread]
        const engines = [
          ['io_uring', 'io_uring', 2],
          ['writev', 'io_uring', 1],
          ['io_uring', 'readv', 1],
          ['writev', 'readv', 0],
        ] as const;
        for (const [txEngine, rxEngine, perThread] of engines) {
          restore(TX_ENGINE_ENV, txEngine === 'writev' ? 'writev' : undefined);
          restore(RX_ENGINE_ENV, rxEngine === 'readv' ? 'readv' : undefined);
          const driver = await VirtioNetDriver.create({ device, queuePairs: 2, queueSize: 64 });
          try {
            driver.send(testFrame(OUTSIDE_MAC, MAC, 1, 64));
            await driver.flushTx();
            // Each IO thread maps its rings when its job starts; pair 1's starts once the driver's
            // MQ_VQ_PAIRS_SET went through the control queue, so give it a moment.
            const want = 2 * perThread;
            for (let t = 0; t < 200 && (rings() - before.rings !== want || ringMaps() - before.maps !== 2 * want); t++)
              await new Promise((r) => setTimeout(r, 10));
            expect(rings() - before.rings, `TX ${txEngine}, RX ${rxEngine}`).toBe(want);
            expect(ringMaps() - before.maps, `TX ${txEngine}, RX ${rxEngine}`).toBe(2 * want); // SQ/CQ ring + SQE array, per ring
          } finally {
            await driver.close();
          }
          expect(rings()).toBe(before.rings);
          expect(ringMaps()).toBe(before.maps);
        }
      } finally {
        restore(TX_ENGINE_ENV, saved.tx);
        restore(RX_ENGINE_ENV, saved.rx);
        await device.close();
      }
    },
  );

  it(`${CYCLES} activate/reset cycles reuse two IO threads; close leaves no fd, thread or mapping`, { timeout: 60_000 }, async () => {
    const base = snapshot();
    const device = open(0);
    const started = performance.now();
    for (let i = 0; i < CYCLES; i++) {
      await activateAndReset(device, i);
      if (i === 0) expect(IoThreadPool.size).toBe(2);
    }
    const perCycle = (performance.now() - started) / CYCLES;
    expect(IoThreadPool.size).toBe(2); // no thread was started after the first activation
    expect(IoThreadPool.started - base.started).toBe(2);
    await device.close(); // the last device: the pool terminates its threads
    await settle(base.tasks);
    const end = snapshot();
    expect(end.fds).toBe(base.fds);
    expect(end.tasks).toBe(base.tasks);
    expect(end.maps).toEqual(base.maps); // each cycle mapped guest RAM (memfd) and two io_uring rings
    console.log(`[virtio-net] ${CYCLES} activate/reset cycles: ${perCycle.toFixed(1)} ms each`);
  });

  it(`${FULL_CYCLES} open/activate/reset/close cycles leave no fd, thread or mapping`, { timeout: 60_000 }, async () => {
    const base = snapshot();
    const started = performance.now();
    for (let i = 0; i < FULL_CYCLES; i++) await fullCycle(i);
    const perCycle = (performance.now() - started) / FULL_CYCLES;
    await settle(base.tasks);
    const end = snapshot();
    expect(end.fds).toBe(base.fds);
    expect(end.tasks).toBe(base.tasks);
    expect(IoThreadPool.size).toBe(0);
    const threadsStarted = end.started - base.started;
    expect(threadsStarted).toBe(2 * FULL_CYCLES); // the pool empties with the last device, every cycle
    expect(end.maps).toEqual(base.maps);
    console.log(`[virtio-net] ${FULL_CYCLES} open/close cycles: ${perCycle.toFixed(1)} ms each`);
  });
});
