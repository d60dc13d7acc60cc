import { createNetDevices, createVnicContainer } from '@vnic/config';
import { LOGGER } from '@vnic/core';
import { VirtioNetDriver } from '@vnic/driver';
import { EVENT_LOOP, type EpollLoop } from '@vnic/sys';
import { IO_THREAD_POOL, IoThreadPool } from '@vnic/virtio-net';
import { readdirSync } from 'node:fs';
import { pino } from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import { fdCount, hostTapPeer, Netns, uniqueName } from '@vnic/sys/testing';

// The services a container carries reach the backends: a VMM rebinds the LOGGER (a real pino
// instance) and the IO_THREAD_POOL (its own pool) and sees a virtio-net NIC on a real tap use
// them; disposing the container leaves no thread and no fd behind.

interface PinoLine {
  readonly level: number;
  readonly msg: string;
  readonly nic?: string;
}

const threads = (): number => readdirSync('/proc/self/task').length;

async function waitFor(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A VM config with one virtio-net NIC on tap `tap`. */
function vmConfig(id: string, tap: string): unknown {
  return { net: [{ id, backend: 'virtio-net', mac: '52:54:00:00:d1:01', 'virtio-net': { tap } }] };
}

const peer = hostTapPeer();

describe.skipIf(peer.skip)('container services (logger, IO-thread pool, event loop) on a real tap', () => {
  beforeAll(async () => {
    if (peer.reason !== undefined) throw new Error(`host kernel tap peer missing: ${peer.reason}`);
    // Warm up what is created once per process (the IO thread's worker file, koffi's state).
    const container = createVnicContainer();
    const [device] = await createNetDevices(vmConfig('diwarm', uniqueName('vndw')), { container });
    const driver = await VirtioNetDriver.create({ device: device! });
    await driver.close();
    await container.dispose();
  });

  it(
    'a rebound pino logger and IO-thread pool are what the virtio-net backend uses; dispose joins the threads and closes the fds',
    { timeout: 60_000 },
    async () => {
      const ns = Netns.create('vndi');
      try {
        const base = { fds: fdCount.fds(), tasks: threads(), sharedJobs: IoThreadPool.shared.jobs };
        const lines: PinoLine[] = [];
        const logger = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s) as PinoLine) });

        const container = createVnicContainer();
        container.rebind(LOGGER).toConstantValue(logger);
        const pool = new IoThreadPool({ maxIdle: 1, maxThreads: 4, logger });
        container
          .rebind<IoThreadPool>(IO_THREAD_POOL)
          .toConstantValue(pool)
          .onDeactivation((p) => p.close());
        const loop = container.get<EpollLoop>(EVENT_LOOP);

        const tap = uniqueName('vndt');
        const [device] = await createNetDevices(vmConfig('dinic0', tap), { container });
        ns.adopt(tap);
        ns.ip('link', 'set', tap, 'up');
        const driver = await VirtioNetDriver.create({ device: device! });

        // The activation ran on the VMM's pool, not on the process-wide default one.
        expect(pool.jobs).toBe(1);
        expect(pool.busyCount).toBe(1);
        expect(IoThreadPool.shared.jobs).toBe(base.sharedJobs);
        expect(lines.some((l) => l.level === 20 && l.msg.includes('dinic0: the IO thread of queue pair 0'))).toBe(true);

        // A ring-level fault the IO thread reports reaches the logger as the NIC's error line.
        driver.postMalformed('avail-idx-jump');
        await waitFor('the needs-reset line', () => lines.some((l) => l.level === 50 && l.nic === 'dinic0' && l.msg.includes('needs reset')));

        await driver.close();
        expect(loop.closed).toBe(false);
        await container.dispose();
        expect(loop.closed).toBe(true); // the EVENT_LOOP's deactivation closed its epoll fd
        expect(pool.closed).toBe(true);
        expect(pool.size).toBe(0);
        await waitFor('the IO thread to be gone', () => threads() <= base.tasks, 3000).catch(() => undefined);
        expect(threads()).toBe(base.tasks);
        expect(fdCount.fds()).toBe(base.fds);
      } finally {
        ns.delete();
      }
    },
  );

  it('IoThreadPool caps threads at maxThreads with a clear error (dedicated pairs; shared ones share)', { timeout: 30_000 }, async () => {
    const container = createVnicContainer(undefined, { ioThreadPool: { maxThreads: 1 } });
    const ns = Netns.create('vndj');
    try {
      const a = uniqueName('vnda');
      const b = uniqueName('vndb');
      const devices = await createNetDevices(
        {
          net: [
            { id: 'dicap0', backend: 'virtio-net', mac: '52:54:00:00:d1:02', 'virtio-net': { tap: a } },
            { id: 'dicap1', backend: 'virtio-net', mac: '52:54:00:00:d1:03', 'virtio-net': { tap: b, ioThreads: 'dedicated' } },
          ],
        },
        { container },
      );
      const first = await VirtioNetDriver.create({ device: devices[0]! });
      const pool = container.get<IoThreadPool>(IO_THREAD_POOL);
      expect(pool.busyCount).toBe(1);
      // The second NIC wants a thread of its own and finds the pool full: it fails DRIVER_OK (NEEDS_RESET).
      await expect(VirtioNetDriver.create({ device: devices[1]! })).rejects.toThrow('DEVICE_NEEDS_RESET');
      await expect(pool.acquire('one thread too many', { dedicated: true })).rejects.toThrow(
        'one thread too many: the IO-thread pool is at its cap of 1 threads (IoThreadPoolOptions.maxThreads)',
      );
      expect(pool.size).toBe(1);
      await first.close();
    } finally {
      await container.dispose();
      ns.delete();
    }
  });
});
