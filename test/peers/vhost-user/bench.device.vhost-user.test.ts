import { Testpmd, bench, type BenchRow } from '@vnic/cli';
import { captureIo } from '../../fixtures/captureIo.ts';
import { describe, expect, it } from 'vitest';
import { peerMissing } from './peerSupport.ts';

// `vnic bench vhost-user-device --json --seconds 1` end to end (testpmd virtio_user txonly as the
// load, vnic's VhostUserDeviceServer vs testpmd vhost PMD + net_tap): the rows, their units, and
// that every number is a positive measurement. Timing is not asserted (shared machine).
const skip = peerMissing(Testpmd.ensure());

describe.skipIf(skip)('vnic bench vhost-user-device', () => {
  it('prints tx-64B-mpps and tx-1514B-gbps with positive numbers for vnic and the DPDK reference', async () => {
    const io = captureIo();
    const code = await bench('vhost-user-device', { json: true, seconds: 1 }, io);
    expect(code, io.stderr).toBe(0);
    const rows = io.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as BenchRow);
    expect(rows.map((r) => [r.metric, r.unit])).toEqual([
      ['tx-64B-mpps', 'Mpps'],
      ['tx-1514B-gbps', 'Gbit/s'],
    ]);
    for (const r of rows) {
      expect(r.bench).toBe('vhost-user-device');
      expect(r.vnic, r.metric).toBeGreaterThan(0);
      expect(r.reference, r.metric).toBeGreaterThan(0);
      expect(r.ratio).toBeGreaterThan(0);
      // Both sides' load (testpmd txonly) was checked from testpmd's own totals.
      expect(r.note).toMatch(/vnic offered [\d.]+x the measured rate; reference offered [\d.]+x the measured rate/);
      expect(r.limit, r.metric).toBe(r.note!.startsWith('source-limited (') ? 'source-limited' : 'device');
    }
    expect(io.stderr).toMatch(/\[bench vhost-user-device\] reference: 1514 B frames/);
  }, 240_000);
});
