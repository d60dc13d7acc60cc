import { describe, expect, it } from 'vitest';
import { wantsRow } from './wantsRow.ts';

describe('wantsRow', () => {
  it('wants every row without --rows', () => {
    expect(wantsRow({}, 'tx-64B-mpps')).toBe(true);
  });

  it('wants a group when --rows names any of its metrics, and no other', () => {
    const rows = new Set(['tx-64B-packed-mpps', 'rtt-64B-p99-us']);
    expect(wantsRow({ rows }, 'tx-64B-packed-mpps')).toBe(true);
    expect(wantsRow({ rows }, 'rtt-64B-p50-us', 'rtt-64B-p99-us')).toBe(true);
    expect(wantsRow({ rows }, 'tx-64B-mpps')).toBe(false);
    expect(wantsRow({ rows }, 'rss-per-nic-mib', 'tx-64B-64nics-mpps')).toBe(false);
  });
});
