import { Testpmd, bench, type BenchRow, type CliIo } from '@vnic/cli';
import { describe, expect, it } from 'vitest';
import { peerMissing } from './peerSupport.ts';

// `vnic bench vhost-user --json --seconds 1` end to end against real testpmd: the rows, their
// metric names and units, and that every number is a positive measurement. Timing itself is not
// asserted (the machine is shared); BENCHMARKS.md has the numbers.
const skip = peerMissing(Testpmd.ensure());

describe.skipIf(skip)('vnic bench vhost-user', () => {
  it('prints one JSON row per metric with positive numbers and the testpmd reference', async () => {
    let stdout = '';
    let stderr = '';
    const io: CliIo = { out: (t) => void (stdout += t), err: (t) => void (stderr += t), isTTY: false, backendModules: () => [] };
    const code = await bench('vhost-user', { json: true, seconds: 1 }, io);
    expect(code, stderr).toBe(0);
    const rows = stdout.trim().split('\n').map((l) => JSON.parse(l) as BenchRow);
    expect(rows.map((r) => r.metric)).toEqual(['handshake-ms', 'reconnect-ms', 'roundtrip-64B-mpps']);
    for (const r of rows) {
      expect(r.bench).toBe('vhost-user');
      expect(r.vnic, r.metric).toBeGreaterThan(0);
      expect(Number.isFinite(r.vnic), r.metric).toBe(true);
    }
    expect(rows.map((r) => r.unit)).toEqual(['ms', 'ms', 'Mpps']);
    const rt = rows[2]!;
    expect(rt.reference).toBeGreaterThan(0);
    expect(rt.ratio).toBeCloseTo(rt.vnic / rt.reference!, 2);
    expect(stderr).toMatch(/\[bench vhost-user\] round trip/); // progress goes to stderr with --json
  }, 180_000);
});
