import type { BenchRow } from './BenchRow.ts';
import type { Headroom } from './Headroom.ts';
import { SOURCE_LIMITED } from './SOURCE_LIMITED.ts';

/**
 * Builds a BenchRow, computing the ratio vnic / reference (rounded to 3 decimals). `headroom`
 * holds the load check of each side that has a source of its own (by label: `vnic`, `C`, ...):
 * when one is source-limited the note starts with {@link SOURCE_LIMITED}, otherwise it ends with
 * what the checks saw.
 */
export function makeBenchRow(
  bench: string,
  metric: string,
  unit: string,
  vnic: number,
  reference: number | null,
  extra: { referenceName?: string; note?: string; headroom?: Readonly<Record<string, Headroom>> } = {},
): BenchRow {
  const ratio = reference === null || reference === 0 || !Number.isFinite(vnic) ? null : Math.round((vnic / reference) * 1000) / 1000;
  const { headroom, ...rest } = extra;
  const row: BenchRow = { bench, metric, unit, vnic, reference, ratio, ...rest };
  if (headroom === undefined) return row;
  const sides = Object.entries(headroom);
  const limited = sides.filter(([, h]) => h.sourceLimited);
  const text = (list: typeof sides): string => list.map(([side, h]) => `${side} ${h.text}`).join('; ');
  const note =
    limited.length > 0
      ? `${SOURCE_LIMITED} (${text(limited)})${rest.note === undefined ? '' : `; ${rest.note}`}`
      : `${rest.note === undefined ? '' : `${rest.note}; `}headroom: ${text(sides)}`;
  return { ...row, note };
}
