import { describe, expect, it } from 'vitest';
import { makeBenchRow } from './makeBenchRow.ts';
import { formatBenchTable } from './formatBenchTable.ts';

describe('bench rows and table', () => {
  it('computes the ratio vnic / reference and null without a reference', () => {
    expect(makeBenchRow('b', 'm', 'Mpps', 1.5, 3).ratio).toBe(0.5);
    expect(makeBenchRow('b', 'm', 'MiB', 2, null).ratio).toBeNull();
    expect(makeBenchRow('b', 'm', 'MiB', 2, 0).ratio).toBeNull();
  });

  it('aligns every row under the header and prints - for a missing reference', () => {
    const text = formatBenchTable([
      makeBenchRow('virtio-net', 'tx-64B-mpps', 'Mpps', 2.345, 2.9, { referenceName: 'C writev loop' }),
      makeBenchRow('virtio-net', 'rss-per-nic-mib', 'MiB', 1.25, null),
    ]);
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[2]).toMatch(/^virtio-net\s+tx-64B-mpps\s+Mpps\s+2\.35\s+2\.90\s+0\.81x\s+C writev loop$/);
    expect(lines[3]).toMatch(/rss-per-nic-mib\s+MiB\s+1\.25\s+-\s+-$/);
    const col = lines[0]!.indexOf('metric');
    expect(lines[2]!.indexOf('tx-64B-mpps')).toBe(col);
  });
});
