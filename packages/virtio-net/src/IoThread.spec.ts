import { EventFd } from '@vnic/sys';
import { describe, expect, it } from 'vitest';
import { fdCount } from '@vnic/sys/testing';
import { IoThread } from './IoThread.ts';
import { IoThreadPool } from './IoThreadPool.ts';
import type { IoWorkerData } from './IoWorkerData.ts';
import { ctrlOnlyJob } from './fixtures/ctrlOnlyJob.ts';
import { shutdownIoThreads } from './shutdownIoThreads.ts';
import { VirtioNetError } from './VirtioNetError.ts';

// The IO thread machinery without a tap: a job with no data queue still registers (pair 0) the
// control queue's kick in its thread's epoll, which is all these checks need.

function job(over: Partial<IoWorkerData> = {}): IoWorkerData {
  return ctrlOnlyJob(over);
}

const quiet = { onCtrlKick: () => undefined, onNeedsReset: () => undefined };

describe('IoThread and the IO thread pool', () => {
  it('runs a job, reports control-queue kicks, stops, and reuses the thread for the next job', async () => {
    await shutdownIoThreads();
    IoThreadPool.retain(); // what an open device does
    const kick = EventFd.create({ nonBlocking: true });
    try {
      let kicks = 0;
      const t = await IoThread.start(job({ ctrlKickFd: kick.fd }), { ...quiet, onCtrlKick: () => kicks++ });
      expect(IoThreadPool.size).toBe(1);
      kick.write(1n);
      const deadline = Date.now() + 2000;
      while (kicks === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
      expect(kicks).toBe(1);
      expect(kick.read()).toBeUndefined(); // the thread consumed the kick
      expect(await t.stop()).toEqual({});
      expect(await t.stop()).toEqual({}); // idempotent
      expect(IoThreadPool.idleCount).toBe(1);
      const again = await IoThread.start(job({ pair: 1 }), quiet);
      expect(IoThreadPool.size).toBe(1); // same thread
      await again.stop();
      expect(IoThreadPool.idleCount).toBe(1);
    } finally {
      kick.close();
      await IoThreadPool.unretain(); // the last "device" closed: idle threads go
    }
    expect(IoThreadPool.size).toBe(0);
  });

  it('turns a job that cannot start into a VirtioNetError and leaks no fd', async () => {
    await shutdownIoThreads();
    const fds = fdCount.fds();
    const bad = job({ rx: { index: 0, size: 8, descTable: 0, availRing: 0x100, usedRing: 0x200, kickFd: -1, callFd: -1 } });
    const err = await IoThread.start(bad, quiet).catch((e: unknown) => e);
    expect(VirtioNetError.is(err)).toBe(true);
    expect((err as VirtioNetError).kind).toBe('io-thread');
    expect((err as VirtioNetError).message).toMatch(/^iot0: the IO thread of queue pair 0 failed to start: .*eventfd -1 is not a valid fd/s);
    // No device holds the pool (no retain): the thread, idle again, was not kept.
    expect(IoThreadPool.idleCount).toBe(0);
    await shutdownIoThreads();
    const deadline = Date.now() + 2000;
    while (fdCount.fds() > fds && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(fdCount.fds()).toBe(fds);
  });
});
