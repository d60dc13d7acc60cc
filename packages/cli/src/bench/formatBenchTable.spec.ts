import { describe, expect, it } from 'vitest';
import { makeBenchRow } from './makeBenchRow.ts';
import { formatBenchTable } from './formatBenchTable.ts';
import { isSourceLimited } from './isSourceLimited.ts';

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

  it('appends the load checks to the note, and a source-limited side leads the note and marks the table', () => {
    const fine = { sourceLimited: false, text: 'offered 3.00x the measured rate' };
    const starved = { sourceLimited: true, text: 'offered 1.00x the measured rate' };
    const ok = makeBenchRow('vhost-net', 'rx-64B-mpps', 'Mpps', 0.07, 0.02, { note: 'in a VM', headroom: { vnic: fine, 'in-process': fine } });
    expect(ok.note).toBe('in a VM; headroom: vnic offered 3.00x the measured rate; in-process offered 3.00x the measured rate');
    expect(isSourceLimited(ok)).toBe(false);
    const bad = makeBenchRow('vhost-net', 'rx-64B-mpps', 'Mpps', 0.004, 0.012, { note: 'in a VM', headroom: { vnic: starved, 'in-process': fine } });
    expect(bad.note).toBe('source-limited (vnic offered 1.00x the measured rate); in a VM');
    expect(isSourceLimited(bad)).toBe(true);
    // --json carries the check as a field too.
    expect(ok.limit).toBe('device');
    expect(bad.limit).toBe('source-limited');
    const lines = formatBenchTable([ok, bad]).trimEnd().split('\n');
    expect(lines[2]).toMatch(/\s3\.50x\s+in a VM; headroom/);
    expect(lines[3]).toMatch(/\s0\.33x source-limited\s+source-limited \(vnic/);
  });
});
