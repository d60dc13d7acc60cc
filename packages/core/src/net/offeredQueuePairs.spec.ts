import { describe, expect, it } from 'vitest';
import { formatConfigIssues } from '../device/formatConfigIssues.ts';
import type { NetDeviceConfig } from '../device/NetDeviceConfig.ts';
import { offeredQueuePairs } from './offeredQueuePairs.ts';

const base = { queuePairs: 4, ctrlVq: true } as NetDeviceConfig;

describe('offeredQueuePairs', () => {
  it('offers every configured pair only with the control queue (MQ needs CTRL_VQ)', () => {
    expect(offeredQueuePairs(base)).toBe(4);
    expect(offeredQueuePairs({ ...base, ctrlVq: false })).toBe(1);
    expect(offeredQueuePairs({ ...base, queuePairs: 1 })).toBe(1);
  });
});

describe('formatConfigIssues', () => {
  it('joins path: message pairs with "; "', () => {
    expect(
      formatConfigIssues([
        { path: 'tap', message: 'too long' },
        { path: 'tapFds[1]', message: 'listed twice' },
      ]),
    ).toBe('tap: too long; tapFds[1]: listed twice');
    expect(formatConfigIssues([])).toBe('');
  });
});
