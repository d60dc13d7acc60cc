import { Testpmd, bench, type BenchRow } from '@vnic/cli';
import { captureIo } from '../../fixtures/captureIo.ts';
import { describe, expect, it } from 'vitest';
import { peerMissing } from './peerSupport.ts';

// `vnic bench vhost-user --json --seconds 1` end to end against real testpmd: the rows, their
// metric names and units, and that every number is a positive measurement. Timing itself is not
// asserted (the machine is shared); BENCHMARKS.md has the numbers.
const skip = peerMissing(Testpmd.ensure());

describe.skipIf(skip)('vnic bench vhost-user', () => {
  it('prints one JSON row per metric with positive numbers and the testpmd reference', async () => {
    const io = captureIo();
    const code = await bench('vhost-user', { json: true, seconds: 1 }, io);
    expect(code, io.stderr).toBe(0);
    const rows = io.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as BenchRow);
    expect(rows.map((r) => r.metric)).toEqual(['handshake-ms', 'reconnect-ms', 'reconnect-after-accept-ms', 'roundtrip-64B-mpps']);
    for (const r of rows) {
      expect(r.bench).toBe('vhost-user');
      expect(r.vnic, r.metric).toBeGreaterThan(0);
      expect(Number.isFinite(r.vnic), r.metric).toBe(true);
    }
    expect(rows.map((r) => r.unit)).toEqual(['ms', 'ms', 'ms', 'Mpps']);
    expect(rows[2]!.vnic).toBeLessThan(rows[1]!.vnic); // a part of the whole reconnection
    const rt = rows[3]!;
    expect(rt.reference).toBeGreaterThan(0);
    expect(rt.ratio).toBeCloseTo(rt.vnic / rt.reference!, 2);
    expect(io.stderr).toMatch(/\[bench vhost-user\] round trip/); // progress goes to stderr with --json
  }, 180_000);
});
