import { describe, expect, it } from 'vitest';
import { SerialQueue } from './SerialQueue.ts';

/** A promise settled from outside, to order operations by hand. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open = (): void => {};
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

describe('SerialQueue', () => {
  it('starts an operation only after the one before it settled, in queue order', async () => {
    const q = new SerialQueue();
    const log: string[] = [];
    const first = gate();
    const a = q.run(async () => {
      log.push('a start');
      await first.promise;
      log.push('a end');
      return 1;
    });
    const b = q.run(() => {
      log.push('b');
      return 2;
    });
    await Promise.resolve();
    await Promise.resolve();
    expect(log).toEqual(['a start']);
    expect(q.pending).toBe(2);
    first.open();
    expect(await a).toBe(1);
    expect(await b).toBe(2);
    expect(log).toEqual(['a start', 'a end', 'b']);
    expect(q.pending).toBe(0);
  });

  it('rejects only the failing caller and runs the next operation', async () => {
    const q = new SerialQueue();
    const failing = q.run(async () => {
      throw new Error('boom');
    });
    const next = q.run(async () => 'ran');
    await expect(failing).rejects.toThrow('boom');
    await expect(next).resolves.toBe('ran');
  });

  it('idle() waits for every queued operation and never rejects', async () => {
    const q = new SerialQueue();
    const g = gate();
    let done = false;
    void q.run(async () => {
      await g.promise;
      done = true;
    });
    void q
      .run(async () => {
        throw new Error('ignored by idle');
      })
      .catch(() => undefined);
    const idle = q.idle().then(() => done);
    g.open();
    expect(await idle).toBe(true);
  });
});
