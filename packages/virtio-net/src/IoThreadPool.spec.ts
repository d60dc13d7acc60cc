import { EventFd } from '@vnic/sys';
import { fdCount } from '@vnic/sys/testing';
import { describe, expect, it } from 'vitest';
import { IoThread } from './IoThread.ts';
import { IoThreadPool } from './IoThreadPool.ts';
import type { IoWorkerData } from './IoWorkerData.ts';
import { ctrlOnlyJob } from './fixtures/ctrlOnlyJob.ts';
import { VirtioNetError } from './VirtioNetError.ts';

// A pool instance's policy (threads, dedicated pairs, maxIdle, maxThreads) and close(), with jobs
// that have no data queue: each still registers its control queue's kick in its thread's epoll,
// whose `ctrl-kick` messages show that the thread serves it; close() must end threads blocked in
// epoll_wait.

function job(pair: number): IoWorkerData {
  return ctrlOnlyJob({ nic: 'pool0', pair, txIoUring: false });
}

const quiet = { onCtrlKick: () => undefined, onNeedsReset: () => undefined };

/** Resolves once `cond()` holds; fails after 2 s. */
async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 2000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** A job watching a control-queue kick of its own: its kicks show that its thread serves it. */
async function kickedJob(pool: IoThreadPool, pair: number, mode: 'shared' | 'dedicated' = 'shared') {
  const kick = EventFd.create({ nonBlocking: true });
  const seen = { kicks: 0 };
  const thread = await IoThread.start({ ...job(pair), ctrlKickFd: kick.fd }, { ...quiet, onCtrlKick: () => seen.kicks++ }, pool, mode);
  const served = async (): Promise<void> => {
    const before = seen.kicks;
    kick.write(1n);
    await until(() => seen.kicks > before, `a kick of job ${pair}`);
  };
  return { thread, kick, served };
}

describe('IoThreadPool (an instance)', () => {
  it('spreads shared pairs over `threads` threads, each one loop over many pairs; stopping one leaves the others served', { timeout: 30_000 }, async () => {
    const pool = new IoThreadPool({ threads: 2 });
    pool.retain();
    const jobs: Awaited<ReturnType<typeof kickedJob>>[] = [];
    try {
      // Started all at once: the placement must not race into more threads than `threads`.
      jobs.push(...(await Promise.all([0, 1, 2, 3, 4].map((p) => kickedJob(pool, p)))));
      expect(pool.size).toBe(2);
      expect(pool.started).toBe(2);
      expect(pool.pairsPerThread.sort()).toEqual([2, 3]);
      for (const j of jobs) await j.served();
      await jobs[0]!.thread.stop();
      await jobs[3]!.thread.stop();
      expect(pool.pairsPerThread.reduce((a, b) => a + b)).toBe(3);
      for (const j of [jobs[1]!, jobs[2]!, jobs[4]!]) await j.served(); // the rest never stopped
      // The next pair goes to the thread serving the fewest.
      const before = pool.pairsPerThread.sort();
      jobs.push(await kickedJob(pool, 5));
      expect(pool.pairsPerThread.sort()).toEqual([before[0]! + 1, before[1]!].sort());
      for (const j of jobs) await j.thread.stop();
      expect(pool.busyCount).toBe(0);
      expect(pool.idleCount).toBe(2);
    } finally {
      for (const j of jobs) j.kick.close();
      await pool.close();
    }
    expect(pool.size).toBe(0);
  });

  it('gives a dedicated pair a thread of its own, refuses one beyond maxThreads, keeps at most maxIdle idle threads', { timeout: 30_000 }, async () => {
    const pool = new IoThreadPool({ threads: 1, maxIdle: 1, maxThreads: 3 });
    pool.retain();
    const jobs: Awaited<ReturnType<typeof kickedJob>>[] = [];
    try {
      jobs.push(await kickedJob(pool, 0), await kickedJob(pool, 1));
      expect(pool.size).toBe(1); // two shared pairs, one thread
      jobs.push(await kickedJob(pool, 2, 'dedicated'), await kickedJob(pool, 3, 'dedicated'));
      expect(pool.size).toBe(3);
      expect(pool.pairsPerThread.sort()).toEqual([1, 1, 2]);
      const err = await IoThread.start(job(4), quiet, pool, 'dedicated').catch((e: unknown) => e);
      expect(VirtioNetError.is(err)).toBe(true);
      expect((err as Error).message).toContain('at its cap of 3 threads');
      // A shared pair never needs a thread of its own: it joins the shared one.
      jobs.push(await kickedJob(pool, 5));
      expect(pool.pairsPerThread.sort()).toEqual([1, 1, 3]);
      for (const j of jobs) await j.served();
      for (const j of jobs) await j.thread.stop();
      expect(pool.idleCount).toBe(1); // the other idle threads went: maxIdle 1
      expect(IoThreadPool.shared.size).toBe(0); // nothing ran on the process-wide pool
    } finally {
      for (const j of jobs) j.kick.close();
      await pool.close();
    }
    expect(pool.size).toBe(0);
  });

  it('prewarm() starts one idle thread, loaded, when none is idle; the next pair takes it without a thread start', { timeout: 30_000 }, async () => {
    const pool = new IoThreadPool({ threads: 2 });
    await pool.prewarm();
    expect(pool.started).toBe(0); // no device retains the pool: nothing to keep a thread for
    pool.retain();
    let j: Awaited<ReturnType<typeof kickedJob>> | undefined;
    try {
      await pool.prewarm();
      expect([pool.started, pool.idleCount]).toEqual([1, 1]);
      await pool.prewarm(); // one is idle already
      expect(pool.started).toBe(1);
      j = await kickedJob(pool, 0);
      await j.served();
      expect([pool.started, pool.idleCount, pool.busyCount]).toEqual([1, 0, 1]);
      await j.thread.stop();
    } finally {
      j?.kick.close();
      await pool.unretain(); // the last user: the idle thread goes
    }
    expect(pool.size).toBe(0);
    await pool.close();
  });

  it('a pair that fails to start on a busy thread fails alone: the thread serves its other pairs on', { timeout: 30_000 }, async () => {
    const pool = new IoThreadPool({ threads: 1 });
    pool.retain();
    const fds = fdCount.fds();
    const a = await kickedJob(pool, 0);
    try {
      const bad = { ...job(1), rx: { index: 2, size: 8, descTable: 0, availRing: 0x100, usedRing: 0x200, kickFd: -1, callFd: -1 } };
      const err = await IoThread.start(bad, quiet, pool).catch((e: unknown) => e);
      expect((err as Error).message).toMatch(/^pool0: the IO thread of queue pair 1 failed to start: .*eventfd -1 is not a valid fd/s);
      expect(pool.size).toBe(1);
      expect(pool.pairsPerThread).toEqual([1]);
      await a.served();
      await a.thread.stop();
    } finally {
      a.kick.close();
      await pool.close();
    }
    expect(fdCount.fds()).toBe(fds);
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
    expect(() => new IoThreadPool({ threads: 0 })).toThrow('threads must be an integer >= 1');
    expect(() => new IoThreadPool({ maxIdle: -1 })).toThrow('maxIdle must be an integer >= 0');
    expect(() => new IoThreadPool({ maxThreads: 0 })).toThrow('maxThreads must be an integer >= 1');
  });
});
