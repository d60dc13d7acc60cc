import { describe, expect, it } from 'vitest';
import { busiestThreads } from './busiestThreads.ts';

describe('busiestThreads', () => {
  it('gives each thread that used CPU its share of the wall time, busiest first; new threads count from zero', () => {
    const before = new Map([
      ['100 node', 1.0],
      ['101 vnic-io', 2.0],
      ['102 idle', 3.0],
    ]);
    const after = new Map([
      ['100 node', 1.5],
      ['101 vnic-io', 3.5],
      ['102 idle', 3.0],
      ['103 io worker', 0.2],
    ]);
    expect(busiestThreads(before, after, 2)).toEqual([
      { tid: 101, comm: 'vnic-io', busy: 0.75 },
      { tid: 100, comm: 'node', busy: 0.25 },
      { tid: 103, comm: 'io worker', busy: 0.1 },
    ]);
  });
});
