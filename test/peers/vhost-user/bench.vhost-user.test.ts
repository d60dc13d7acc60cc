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
    expect(rt.ratio).toBeGreaterThan(0);
    // The load is the lean ring-recycling guest, not the TS driver, and its headroom was checked.
    const m = /lean ring-recycling guest .*: (\d+) frames back in the window, TX (\d+) \/ RX (\d+) recycled/.exec(rt.note ?? '');
    expect(m, rt.note).not.toBeNull();
    const [back, txDone, rxDone] = [Number(m![1]), Number(m![2]), Number(m![3])];
    // macswap sends back only what it got: every frame back was sent first, and was counted back.
    expect(back).toBeGreaterThan(0);
    expect(rxDone).toBeGreaterThanOrEqual(back);
    // testpmd publishes a burst's TX used entries before it sends the burst back, and the guest
    // pumps TX just before RX: RX leads by at most one burst (32) of a pump in between.
    expect(txDone).toBeGreaterThanOrEqual(rxDone - 64);
    expect(rt.note).toMatch(/(headroom: vnic source \d+% busy, device thread \d+%|^source-limited \(vnic source)/);
    // --json says what limited each row: the control-plane times have no load, the round trip was checked.
    expect(rows.slice(0, 3).map((r) => r.limit)).toEqual(['no-load', 'no-load', 'no-load']);
    expect(rt.limit).toBe(rt.note!.startsWith('source-limited (') ? 'source-limited' : 'device');
    expect(io.stderr).toMatch(/\[bench vhost-user\] round trip/); // progress goes to stderr with --json
  }, 180_000);
});
