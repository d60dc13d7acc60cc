import type { BenchLimit } from './BenchLimit.ts';
import type { BenchRow } from './BenchRow.ts';
import type { Headroom } from './Headroom.ts';
import { SOURCE_LIMITED } from './SOURCE_LIMITED.ts';

/**
 * Builds a BenchRow, computing the ratio vnic / reference (rounded to 3 decimals) and its `limit`.
 * `headroom` holds the load check of each side that has a source of its own (by label: `vnic`,
 * `C`, ...): when one is source-limited the note starts with {@link SOURCE_LIMITED} and `limit` is
 * `source-limited`, otherwise the note ends with what the checks saw and `limit` is `device`.
 * `noLoad` says why a row has no load to check (a cost or memory row, a closed loop): the note
 * ends with it and `limit` is `no-load`. `paced` says at what rate the row's source runs on
 * purpose (a count per frame at a set rate, not a rate of the device): the note ends with it and
 * `limit` is `paced`. With none of them (or no side in `headroom`), `limit` is `unchecked`.
 * Throws a RangeError when more than one is given.
 */
export function makeBenchRow(
  bench: string,
  metric: string,
  unit: string,
  vnic: number,
  reference: number | null,
  extra: { referenceName?: string; note?: string; headroom?: Readonly<Record<string, Headroom>>; noLoad?: string; paced?: string } = {},
): BenchRow {
  const ratio = reference === null || reference === 0 || !Number.isFinite(vnic) ? null : Math.round((vnic / reference) * 1000) / 1000;
  const { headroom, noLoad, paced, ...rest } = extra;
  const row = (limit: BenchLimit, note = rest.note): BenchRow => ({
    bench,
    metric,
    unit,
    vnic,
    reference,
    ratio,
    ...rest,
    ...(note === undefined ? {} : { note }),
    limit,
  });
  const before = rest.note === undefined ? '' : `${rest.note}; `;
  const given = [headroom !== undefined && 'a load check', noLoad !== undefined && 'noLoad', paced !== undefined && 'paced'].filter((g) => g !== false);
  if (given.length > 1) throw new RangeError(`makeBenchRow ${metric}: both ${given.join(' and ')} given`);
  if (noLoad !== undefined) return row('no-load', `${before}no load to check: ${noLoad}`);
  if (paced !== undefined) return row('paced', `${before}paced load: ${paced}`);
  const sides = Object.entries(headroom ?? {});
  if (sides.length === 0) return row('unchecked');
  const limited = sides.filter(([, h]) => h.sourceLimited);
  const text = (list: typeof sides): string => list.map(([side, h]) => `${side} ${h.text}`).join('; ');
  return limited.length > 0
    ? row(SOURCE_LIMITED, `${SOURCE_LIMITED} (${text(limited)})${rest.note === undefined ? '' : `; ${rest.note}`}`)
    : row('device', `${before}headroom: ${text(sides)}`);
}
