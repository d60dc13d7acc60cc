import type { BenchContext } from '../BenchContext.ts';
import { makeBenchRow } from '../makeBenchRow.ts';
import type { SwitchMeasurements } from './measureSwitches.ts';

const BENCH = 'state';
const MAIN_PAIR = 'virtio-net-to-vhost-user';
const REFERENCE_PAIR = 'virtio-net-to-virtio-net';

/**
 * The `vnic bench state` switch rows from measureSwitches(): `switch-ms` (virtio-net -> vhost-user),
 * `switch-ms-<pair>` for every other pair measured (medians, with min/max in the note), and
 * `frames-lost-per-switch` over every switch; `handOverMs` (the same run's save-ms + restore-ms) is
 * the reference of the switch times, the virtio-net <-> virtio-net switches that of the loss.
 */
export function switchRows(ctx: BenchContext, m: SwitchMeasurements, handOverMs: number): void {
  const referenceName = 'save-ms + restore-ms of this run (cold hand-over between taps)';
  for (const [pair, xs] of m.ms) {
    const metric = pair === MAIN_PAIR ? 'switch-ms' : `switch-ms-${pair}`;
    const ph = m.phases.get(pair) ?? [];
    const phase = (k: 'quiesceSave' | 'restore' | 'firstFrame'): number => round3(median(ph.map((p) => p[k])));
    const phaseNote =
      ph.length === 0 ? '' : `; phases (medians): quiesce + save ${phase('quiesceSave')}, restore ${phase('restore')}, first frame ${phase('firstFrame')}`;
    const note = `median of ${xs.length} switches (min ${round3(Math.min(...xs))}, max ${round3(Math.max(...xs))}): quiesce to the first stream frame through the new backend (at the tap, or reflected back to the guest by testpmd); build and prepare (IO thread, memory table) run before the quiesce${phaseNote}; loaded machine: indicative`;
    ctx.row(makeBenchRow(BENCH, metric, 'ms', round3(median(xs)), handOverMs, { referenceName, note, noLoad: 'a switch time' }));
  }
  if (m.skipped !== undefined) ctx.progress(`state: switch-ms (virtio-net -> vhost-user) not measured: ${m.skipped}`);
  let switches = 0;
  let lost = 0;
  for (const [pair, xs] of m.ms) {
    switches += xs.length;
    lost += m.lost.get(pair) ?? 0;
  }
  const refSwitches = m.ms.get(REFERENCE_PAIR)?.length ?? 0;
  const refLost = m.lost.get(REFERENCE_PAIR) ?? 0;
  const perPair = [...m.lost].map(([p, n]) => `${p} ${n}/${m.ms.get(p)?.length ?? 0}`).join(', ');
  const dropped =
    m.testpmdTxDropped === undefined ? '' : `; testpmd TX-dropped ${m.testpmdTxDropped} (frames it held while the guest's RX ring was handed over)`;
  ctx.row(
    makeBenchRow(
      BENCH,
      'frames-lost-per-switch',
      'frames',
      round3(switches === 0 ? 0 : lost / switches),
      refSwitches === 0 ? null : round3(refLost / refSwitches),
      {
        referenceName: 'virtio-net <-> virtio-net switches of this run',
        noLoad: 'a frame count over switches',
        note: `${lost} of ${m.sent} stream frames lost over ${switches} switches (lost/switches per pair: ${perPair}); none duplicated is checked by the tests${dropped}`,
      },
    ),
  );
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const k = s.length >> 1;
  return s.length % 2 === 1 ? s[k]! : (s[k - 1]! + s[k]!) / 2;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
