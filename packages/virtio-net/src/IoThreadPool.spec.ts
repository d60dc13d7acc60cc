import { describe, expect, it } from 'vitest';
import { IoThread } from './IoThread.ts';
import { IoThreadPool } from './IoThreadPool.ts';
import type { IoWorkerData } from './IoWorkerData.ts';
import { SharedNetState } from './SharedNetState.ts';
import { SharedQueueCounters } from './SharedQueueCounters.ts';
import { VirtioNetError } from './VirtioNetError.ts';

// A pool instance's policy (maxIdle, maxThreads) and close(), with jobs that have no queue: each
// still blocks its thread in epoll_wait on the control eventfd, which is what close() must end.

function job(pair: number): Omit<IoWorkerData, 'controlFd' | 'command'> {
  return {
    nic: 'pool0',
    pair,
    tapName: 'none',
    tapFd: -1,
    memory: { regions: [] },
    counters: new SharedQueueCounters(3).buffer,
    netState: new SharedNetState().buffer,
    eventIdx: true,
    indirectDesc: true,
    mrgRxbuf: true,
    guestCsum: false,
    txIoUring: false,
  };
}

const quiet = { onCtrlKick: () => undefined, onNeedsReset: () => undefined };

describe('IoThreadPool (an instance)', () => {
  it('keeps at most maxIdle idle threads and refuses a thread beyond maxThreads', { timeout: 30_000 }, async () => {
    const pool = new IoThreadPool({ maxIdle: 1, maxThreads: 2 });
    pool.retain();
    try {
      const a = await IoThread.start(job(0), quiet, pool);
      const b = await IoThread.start(job(1), quiet, pool);
      expect(pool.busyCount).toBe(2);
      const err = await IoThread.start(job(2), quiet, pool).catch((e: unknown) => e);
      expect(VirtioNetError.is(err)).toBe(true);
      expect((err as Error).message).toContain('at its cap of 2 threads');
      await a.stop();
      await b.stop();
      expect(pool.idleCount).toBe(1); // the second idle thread went: maxIdle 1
      expect(IoThreadPool.shared.size).toBe(0); // nothing ran on the process-wide pool
    } finally {
      await pool.close();
    }
    expect(pool.size).toBe(0);
  });

  it('close() ends busy threads blocked in epoll_wait and refuses new jobs', { timeout: 30_000 }, async () => {
    const pool = new IoThreadPool();
    pool.retain();
    const t = await IoThread.start(job(0), quiet, pool);
    expect(pool.busyCount).toBe(1);
    await pool.close();
    expect(pool.size).toBe(0);
    expect(await t.stop()).toEqual({}); // the job's thread is gone: nothing handed back
    await expect(IoThread.start(job(1), quiet, pool)).rejects.toThrow('the IO-thread pool is closed');
  });

  it('rejects a size that is not an integer', () => {
    expect(() => new IoThreadPool({ maxIdle: -1 })).toThrow('maxIdle must be an integer >= 0');
    expect(() => new IoThreadPool({ maxThreads: 0 })).toThrow('maxThreads must be an integer >= 1');
  });
});
